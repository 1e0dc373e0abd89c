/**
 * One connection of the link as a Node Duplex stream, for code that speaks a protocol over it instead
 * of relaying a socket (the agent's HTTP dispatcher hands a matching request to the local process
 * through Node's own HTTP/1 and HTTP/2 clients, over one of these).
 *
 *   write ──▶ Data frames (≤ MAX_DATA_CHUNK) ──▶ link    within the peer's window: a write waits for
 *                                                         Window frames once INITIAL_WINDOW is in flight
 *   read  ◀── Data frames ◀── link                        Window sent back as the reader takes them
 *   end() ──▶ Shutdown; the peer's Shutdown ends the readable side; Close ends both (errno ≠ 0: an error)
 *
 * The flow control is the relays' (link/relay.ts), so either end may be a socket relay.
 */
import { Duplex } from 'node:stream';
import { E, errnoOf } from '../common/errno.js';
import { INITIAL_WINDOW, MAX_DATA_CHUNK } from '../protocol/spec.js';
import type { ConnFrame, ConnHandler } from './conns.js';
import type { FrameSink } from './link.js';

const ACK_THRESHOLD = 64 * 1024;

export class LinkStream extends Duplex {
  private sendWindow = INITIAL_WINDOW;
  private waitingWrite: (() => void) | undefined;
  private unacked = 0;
  private peerClosed = false;

  /** Route this connection's frames here (ConnTable.add / setHandler). */
  readonly handler: ConnHandler = {
    onFrame: (f) => this.onFrame(f),
    destroy: (errno) => {
      this.peerClosed = true;
      this.destroy(Object.assign(new Error('the link is gone'), { errno }));
    },
  };

  constructor(
    private readonly link: FrameSink,
    readonly conn: number,
    private readonly onGone: (conn: number) => void,
  ) {
    super({ allowHalfOpen: true });
  }

  private onFrame(f: ConnFrame): void {
    switch (f.type) {
      case 'Data':
        this.unacked += f.data.length;
        // (A Data frame's bytes are a view of the link's read, never reused: no copy, as TcpRelay.)
        if (this.push(f.data)) this.ack(false);
        return;
      case 'Window': {
        this.sendWindow += f.bytes;
        const w = this.waitingWrite;
        if (w && this.sendWindow > 0) {
          this.waitingWrite = undefined;
          w();
        }
        return;
      }
      case 'Shutdown':
        this.push(null);
        return;
      case 'Close':
        this.peerClosed = true;
        if (f.errno === 0) {
          // An orderly close: whatever is buffered is still read, then the stream ends by itself.
          this.push(null);
          this.end();
        } else {
          this.destroy(Object.assign(new Error(`the peer closed the connection (errno ${f.errno})`), { errno: f.errno, code: 'ECONNRESET' }));
        }
        return;
    }
  }

  /** Tell the sender it may send what the reader took (at once when `force`, else in batches). */
  private ack(force: boolean): void {
    if (this.unacked === 0 || (!force && this.unacked < ACK_THRESHOLD) || this.destroyed) return;
    this.link.send({ type: 'Window', id: 0, conn: this.conn, bytes: this.unacked });
    this.unacked = 0;
  }

  override _read(): void {
    this.ack(false);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MAX_DATA_CHUNK) {
      const part = chunk.subarray(off, off + MAX_DATA_CHUNK);
      this.link.send({ type: 'Data', id: 0, conn: this.conn, data: part });
      this.sendWindow -= part.length;
    }
    if (this.sendWindow > 0) return done();
    this.waitingWrite = () => done();
    // Out of credit: the receiver may grow the window (link/relay.ts), as a relay's sender asks.
    this.link.send({ type: 'Window', id: 0, conn: this.conn, bytes: 0 });
  }

  override _final(done: (err?: Error | null) => void): void {
    if (!this.peerClosed) this.link.send({ type: 'Shutdown', id: 0, conn: this.conn });
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.peerClosed) this.link.send({ type: 'Close', id: 0, conn: this.conn, errno: err ? errnoOf(err) || E.ECONNRESET : 0 });
    this.peerClosed = true;
    this.waitingWrite = undefined;
    this.onGone(this.conn);
    done(err);
  }

  // What Node's HTTP clients ask of a socket (http.Agent keep-alive, timeouts): nothing to do here.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
