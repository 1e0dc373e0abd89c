/**
 * Relays one connection between a real socket and the multiplexed link, on both ends of it (the
 * intproxy's loopback leg, the agent's leg in the target's network).
 *
 *   socket ──read──▶ Data frames ──▶ link      (stops reading when the peer's credit is used up)
 *   socket ◀─write── Data frames ◀── link      (grants credit back with Window as the bytes reach the socket)
 *
 * A connection ends with Shutdown each way (half-closes) and, unless both ends finished cleanly,
 * Close{errno}.
 *
 * Per-connection windows keep one slow reader from stalling every other connection on the shared
 * stream. The sender may overshoot its credit by one chunk (at most MAX_DATA_CHUNK), which the
 * receiver allows.
 *
 * The window grows with the connection (auto-tuning, as TCP's receive buffer does): it starts at
 * INITIAL_WINDOW. A sender that runs out of credit says so with `Window{bytes: 0}`; if this side's
 * socket is taking the bytes as they come (at most a chunk waits in Node) — the window, not the
 * reader, was the limit — it grants three windows more, quadrupling it, up to MAX_WINDOW (and up to
 * GROWN_BUDGET beyond the initial windows over all of a process's connections). A connection whose
 * reader is slow never grows, so what a stalled reader can make this side hold stays at the initial
 * window; an idle connection holds nothing whatever its window. Credit comes back once a quarter of
 * the window has been written, so a grown window also means fewer Window frames.
 */
import dgram from 'node:dgram';
import type net from 'node:net';
import { E, errnoOf } from '../common/errno.js';
import { INITIAL_WINDOW, MAX_DATA_CHUNK, MAX_WINDOW } from '../protocol/spec.js';
import type { FrameSink } from './link.js';
import type { Message } from '../protocol/types.js';
import type { DataPiece } from '../protocol/codec.js';
import { io, trace } from './trace.js';

/** How far all of a process's windows together may grow beyond INITIAL_WINDOW each. */
const GROWN_BUDGET = 128 * 1024 * 1024;
let grown = 0;

export interface Relay {
  readonly conn: number;
  /** Feed a frame addressed to this connection (Data, Window, Shutdown, Close). */
  onFrame(m: Message): void;
  /** Tear down locally, telling the peer with Close(errno) unless `silent`. */
  destroy(errno: number, silent?: boolean): void;
}

export class TcpRelay implements Relay {
  /** Sending: what the peer still lets us send. */
  private credit = INITIAL_WINDOW;
  /** Receiving: bytes of Data received, bytes already given back as credit, all credit ever granted. */
  private received = 0;
  private returned = 0;
  private granted = INITIAL_WINDOW;
  /** The window the peer gets now (grows, see above). */
  private window = INITIAL_WINDOW;
  /** The socket is corked while a Data frame arrives in pieces. */
  private corked = false;
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
    socket.on('drain', () => this.giveCredit());
    socket.on('end', () => {
      this.localEnded = true;
      if (!this.closed && !oneWay) this.link.send({ type: 'Shutdown', id: 0, conn });
      this.maybeDone();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.destroy(errnoOf(err)));
    socket.on('close', () => this.destroy(0));
  }

  private fromSocket(chunk: Buffer): void {
    if (io.hasSubscribers) trace('sock-in', 'tcp', this.conn, chunk.length);
    // The frames of this chunk are written when it is relayed, not a tick later.
    this.link.hold();
    for (let off = 0; off < chunk.length; off += MAX_DATA_CHUNK) {
      const part = off === 0 && chunk.length <= MAX_DATA_CHUNK ? chunk : chunk.subarray(off, off + MAX_DATA_CHUNK);
      this.link.send({ type: 'Data', id: 0, conn: this.conn, data: part });
      this.credit -= part.length;
    }
    if (this.credit <= 0) {
      if (io.hasSubscribers) trace('pause', 'tcp', this.conn, this.credit);
      this.socket.pause();
      // Out of credit: the receiver may grow the window (a zero Window changes nothing otherwise).
      this.link.send({ type: 'Window', id: 0, conn: this.conn, bytes: 0 });
    }
    this.link.release();
  }

  /**
   * Bytes that left Node for the kernel are given back to the peer as credit, once they add up to a
   * quarter of the window (bytes still queued in Node are not: a slow reader holds them).
   */
  private giveCredit(): void {
    if (this.closed) return;
    const flushed = this.received - this.socket.writableLength;
    let bytes = flushed - this.returned;
    if (bytes < this.window / 4) return;
    this.returned = flushed;
    this.grant(bytes);
  }

  private grant(bytes: number): void {
    this.granted += bytes;
    if (io.hasSubscribers) trace('window-out', 'tcp', this.conn, bytes);
    this.link.send({ type: 'Window', id: 0, conn: this.conn, bytes });
  }

  /** The peer ran out of credit: quadruple its window if our socket keeps up (at most a chunk waits in Node). */
  private grow(): void {
    const more = Math.min(3 * this.window, MAX_WINDOW - this.window);
    if (more <= 0 || this.socket.writableLength > MAX_DATA_CHUNK || grown + more > GROWN_BUDGET) return;
    this.window += more;
    grown += more;
    this.grant(more);
  }

  onFrame(m: Message): void {
    if (this.closed) return;
    switch (m.type) {
      case 'Data': {
        this.received += m.data.length;
        if (io.hasSubscribers) trace('sock-out', 'tcp', this.conn, m.data.length);
        // A frame that reached the link in pieces goes to the socket in one write, as it would whole.
        const more = (m as DataPiece).more === true;
        if (more && !this.corked) this.socket.cork();
        this.socket.write(m.data);
        if (!more && this.corked) this.socket.uncork();
        this.corked = more;
        this.giveCredit();
        return;
      }
      case 'Window':
        if (io.hasSubscribers) trace('window-in', 'tcp', this.conn, m.bytes);
        if (m.bytes === 0) return this.grow();
        this.credit += m.bytes;
        if (this.credit > 0 && this.socket.isPaused()) {
          if (io.hasSubscribers) trace('resume', 'tcp', this.conn, this.credit);
          this.socket.resume();
        }
        return;
      case 'Shutdown':
        this.peerShutdown = true;
        if (!this.socket.writableEnded) this.socket.end();
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
    // (end() once only: a second one costs Node an error object with its stack.)
    if (this.peerShutdown && (this.localEnded || this.oneWay) && !this.socket.writableEnded) this.socket.end();
  }

  destroy(errno: number, silent = false): void {
    if (this.closed) return;
    this.closed = true;
    grown -= this.window - INITIAL_WINDOW;
    // After a clean end both ways (each side read its socket's end and the other's Shutdown) the peer
    // closes its socket on its own: a Close would only wake it once more per connection.
    const finished = errno === 0 && this.peerShutdown && this.localEnded && !this.oneWay;
    if (!silent && !finished) this.link.send({ type: 'Close', id: 0, conn: this.conn, errno });
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
  /** The pieces so far of a datagram that arrives in several (FrameReader's DataPiece). */
  private readonly pieces: Uint8Array[] = [];

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
      // A datagram that reached the link in pieces is sent whole.
      if ((m as DataPiece).more) {
        this.pieces.push(m.data);
        return;
      }
      const data = this.pieces.length ? Buffer.concat([...this.pieces.splice(0), m.data]) : m.data;
      if (!this.peer) {
        this.socket.send(data);
        return;
      }
      const to = this.peer();
      if (to) this.socket.send(data, to.port, to.address);
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
