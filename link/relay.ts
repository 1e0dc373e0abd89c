/**
 * Relays one connection between a real socket and the multiplexed link, on both ends of it (the
 * intproxy's loopback leg, the agent's leg in the target's network).
 *
 *   socket ──read──▶ Data frames ──▶ link      (stops reading when the peer's window is used up)
 *   socket ◀─write── Data frames ◀── link      (sends Window once written bytes reach ACK_THRESHOLD)
 *
 * Per-connection windows keep one slow reader from stalling every other connection on the shared
 * stream. The window may be overshot by one chunk (at most MAX_DATA_CHUNK), which the receiver allows.
 */
import dgram from 'node:dgram';
import type net from 'node:net';
import { E, errnoOf } from '../common/errno.js';
import { INITIAL_WINDOW, MAX_DATA_CHUNK } from '../protocol/spec.js';
import type { FrameSink } from './link.js';
import type { Message } from '../protocol/types.js';

const ACK_THRESHOLD = 64 * 1024;

export interface Relay {
  readonly conn: number;
  /** Feed a frame addressed to this connection (Data, Window, Shutdown, Close). */
  onFrame(m: Message): void;
  /** Tear down locally, telling the peer with Close(errno) unless `silent`. */
  destroy(errno: number, silent?: boolean): void;
}

export class TcpRelay implements Relay {
  private sendWindow = INITIAL_WINDOW;
  private unacked = 0;
  private closed = false;
  private peerShutdown = false;
  private localEnded = false;

  constructor(
    private readonly link: FrameSink,
    readonly conn: number,
    private readonly socket: net.Socket,
    private readonly onGone: (conn: number) => void,
    /** A mirrored copy (incoming): what the socket sends is read and dropped, never relayed. */
    private readonly oneWay = false,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (!oneWay) this.fromSocket(chunk);
    });
    socket.on('end', () => {
      this.localEnded = true;
      if (!this.closed && !oneWay) this.link.send({ type: 'Shutdown', id: 0, conn });
      this.maybeDone();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.destroy(errnoOf(err)));
    socket.on('close', () => this.destroy(0));
  }

  private fromSocket(chunk: Buffer): void {
    for (let off = 0; off < chunk.length; off += MAX_DATA_CHUNK) {
      const part = chunk.subarray(off, off + MAX_DATA_CHUNK);
      this.link.send({ type: 'Data', id: 0, conn: this.conn, data: part });
      this.sendWindow -= part.length;
    }
    if (this.sendWindow <= 0) this.socket.pause();
  }

  onFrame(m: Message): void {
    if (this.closed) return;
    switch (m.type) {
      case 'Data': {
        const n = m.data.length;
        this.socket.write(m.data, () => {
          this.unacked += n;
          if (this.unacked >= ACK_THRESHOLD && !this.closed) {
            this.link.send({ type: 'Window', id: 0, conn: this.conn, bytes: this.unacked });
            this.unacked = 0;
          }
        });
        return;
      }
      case 'Window':
        this.sendWindow += m.bytes;
        if (this.sendWindow > 0 && this.socket.isPaused()) this.socket.resume();
        return;
      case 'Shutdown':
        this.peerShutdown = true;
        this.socket.end();
        this.maybeDone();
        return;
      case 'Close':
        this.destroy(m.errno, true);
        return;
      default:
        return;
    }
  }

  /** Both directions finished cleanly: the socket closes itself, 'close' then tidies up. */
  private maybeDone(): void {
    if (this.peerShutdown && (this.localEnded || this.oneWay)) this.socket.end();
  }

  destroy(errno: number, silent = false): void {
    if (this.closed) return;
    this.closed = true;
    if (!silent) this.link.send({ type: 'Close', id: 0, conn: this.conn, errno });
    if (errno === E.ECONNRESET && !this.socket.destroyed) this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.onGone(this.conn);
  }
}

/**
 * A UDP flow: datagrams from `socket` go to the peer as one Data frame each; Data frames from the peer
 * are sent to `peer()` when given (the intproxy side: the layer's last sending address), otherwise on
 * the connected socket (the agent side: connected to the remote). UDP uses no window: a datagram that
 * cannot be delivered is dropped, as the network would.
 */
export class UdpRelay implements Relay {
  private closed = false;

  constructor(
    private readonly link: FrameSink,
    readonly conn: number,
    private readonly socket: dgram.Socket,
    private readonly peer: (() => { address: string; port: number } | undefined) | undefined,
    private readonly onGone: (conn: number) => void,
    onMessage?: (rinfo: dgram.RemoteInfo) => void,
  ) {
    socket.on('message', (data, rinfo) => {
      onMessage?.(rinfo);
      this.link.send({ type: 'Data', id: 0, conn, data });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.destroy(errnoOf(err)));
  }

  onFrame(m: Message): void {
    if (this.closed) return;
    if (m.type === 'Data') {
      if (!this.peer) {
        this.socket.send(m.data);
        return;
      }
      const to = this.peer();
      if (to) this.socket.send(m.data, to.port, to.address);
    } else if (m.type === 'Close') {
      this.destroy(m.errno, true);
    }
  }

  destroy(errno: number, silent = false): void {
    if (this.closed) return;
    this.closed = true;
    if (!silent) this.link.send({ type: 'Close', id: 0, conn: this.conn, errno });
    this.socket.close();
    this.onGone(this.conn);
  }
}
