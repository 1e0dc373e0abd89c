/**
 * One way out of a filtered client connection (http1.ts): a connection to the original app, or to one
 * session's local process. Requests are written to it as the client sent them, and the answers come
 * back framed by llhttp (h1-framing.ts), one per request in the order the requests were written, so
 * the client connection can put every answer back in its request's place.
 */
import type { Duplex } from 'node:stream';
import { Framer, type Piece } from './h1-framing.js';
import { TurnWrites } from './turn-writes.js';

/** One request and its answer. */
export interface Exchange {
  /** The request's method: a HEAD's answer has no body, a CONNECT's 2xx is a tunnel. */
  method: string;
  up: Upstream;
  /** Answer bytes waiting for the earlier answers to the client. */
  held: Buffer[];
  heldBytes: number;
  /** Some of the answer has been produced (written or held). */
  answered: boolean;
  /** The final answer (not a 1xx) is complete. */
  done: boolean;
  /** From this request on, both ways are relayed as they are (an upgrade, or what llhttp refused). */
  tunnel: boolean;
  /** The client connection ends after this answer (it asked to close, or its side failed). */
  last: boolean;
  /** …and is reset rather than ended (the answer broke off). */
  reset: boolean;
}

export function exchange(method: string, up: Upstream, tunnel: boolean): Exchange {
  return { method, up, held: [], heldBytes: 0, answered: false, done: false, tunnel, last: false, reset: false };
}

/** What an upstream reports to its client connection. */
export interface UpstreamOwner {
  /** Answer bytes of one read (`bytes` long) follow: written together (one system call) after `batchEnd`. */
  batchStart(bytes: number): void;
  batchEnd(): void;
  /** Answer bytes of `ex`. */
  deliver(ex: Exchange, bytes: Buffer): void;
  /** `ex`'s answer is complete (or, `ex.last`, the connection ends after it). */
  completed(ex: Exchange): void;
  /** The way could not be opened; `unsent` is everything written to it, `exchanges` its requests. */
  unreachable(up: Upstream, unsent: Buffer[], exchanges: Exchange[]): void;
  /** The way closed or answered what is not HTTP/1; `exchanges` were not answered in full. */
  lost(up: Upstream, exchanges: Exchange[]): void;
}

/** Answers held for a later turn beyond this stop the upstream being read. */
export const HOLD_MAX = 1024 * 1024;

export class Upstream {
  readonly queue: Exchange[] = [];
  private stream: Duplex | undefined;
  private waiting: Buffer[] | undefined = [];
  private endAsked = false;
  private dead = false;
  private readonly pauses = new Set<'client' | 'held'>();
  private readonly framer: Framer;
  private readonly pieces: Piece[] = [];
  /** The answer being read is a 1xx: its end does not complete the exchange. */
  private interim = false;
  /** Exchanges answered in full (and shifted off the queue) so far. */
  private answered = 0;
  private drainWaiters: (() => void)[] = [];
  /** Request bytes of one client read, written together (turn-writes.ts). */
  readonly turn = new TurnWrites(() => this.stream, (b) => this.write(b));

  constructor(
    /** '' for the original app, else the session's id. */
    readonly key: string,
    open: Duplex | Promise<Duplex>,
    private readonly owner: UpstreamOwner,
  ) {
    this.framer = new Framer('response', (n) => this.queue[n - this.answered]?.method);
    if (open instanceof Promise) {
      open.then(
        (s) => this.attach(s),
        () => {
          if (this.dead) return;
          this.dead = true;
          const unsent = this.waiting ?? [];
          this.waiting = undefined;
          this.owner.unreachable(this, unsent, this.queue.splice(0));
        },
      );
    } else this.attach(open);
  }

  private attach(s: Duplex): void {
    if (this.dead) return void s.destroy();
    this.stream = s;
    s.on('data', (d: Buffer) => this.fromApp(d));
    s.on('end', () => this.appEnded());
    s.on('error', () => undefined); // 'close' follows
    s.on('close', () => this.appEnded());
    s.on('drain', () => {
      for (const w of this.drainWaiters.splice(0)) w();
    });
    for (const b of this.waiting ?? []) s.write(b);
    this.waiting = undefined;
    if (this.endAsked) s.end();
    if (this.pauses.size) s.pause();
  }

  expect(ex: Exchange): void {
    this.queue.push(ex);
  }

  /** Writes request bytes; false when the caller should wait (`onDrain`). */
  write(b: Buffer): boolean {
    if (this.dead) return true;
    if (this.waiting) {
      this.waiting.push(b);
      return true;
    }
    return this.stream!.write(b);
  }

  onDrain(f: () => void): void {
    if (!this.stream || this.dead) return f();
    this.drainWaiters.push(f);
  }

  end(): void {
    this.endAsked = true;
    this.stream?.end();
  }

  pause(why: 'client' | 'held'): void {
    this.pauses.add(why);
    this.stream?.pause();
  }

  resume(why: 'client' | 'held'): void {
    if (!this.pauses.delete(why) || this.pauses.size) return;
    this.stream?.resume();
  }

  destroy(): void {
    this.dead = true;
    this.framer.close();
    this.stream?.destroy();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private fromApp(d: Buffer): void {
    const pieces = this.pieces;
    pieces.length = 0;
    this.framer.push(d, pieces);
    this.owner.batchStart(d.length);
    this.take(pieces);
    this.owner.batchEnd();
  }

  private take(pieces: Piece[]): void {
    for (const p of pieces) {
      if (this.dead) return;
      const ex = this.queue[0];
      // An answer nobody asked for (an app's timeout notice before it closes): not the client's.
      if (!ex) return void this.fail();
      switch (p.kind) {
        case 'head':
          this.interim = p.head.status >= 100 && p.head.status < 200 && !p.head.upgrade;
          if (!this.interim && !p.head.keepAlive) ex.last = true;
          if (p.head.upgrade) ex.tunnel = true;
          this.owner.deliver(ex, p.bytes);
          break;
        case 'body':
        case 'raw':
          this.owner.deliver(ex, p.bytes);
          break;
        case 'end':
          if (this.interim) {
            this.interim = false;
            break;
          }
          ex.done = true;
          this.queue.shift();
          this.answered++;
          this.owner.completed(ex);
          break;
        case 'broken':
          return void this.fail();
      }
    }
  }

  /** The app closed its side: an until-close body is complete, a tunnel's answer too; else the answers are lost. */
  private appEnded(): void {
    if (this.dead) return;
    const pieces: Piece[] = [];
    this.framer.finish(pieces);
    this.take(pieces);
    if (this.dead) return;
    const ex = this.queue[0];
    if (ex?.tunnel && ex.answered) {
      ex.done = true;
      ex.last = true;
      this.queue.shift();
      this.owner.completed(ex);
      return;
    }
    this.fail();
  }

  private fail(): void {
    if (this.dead) return;
    this.dead = true;
    this.framer.close();
    this.stream?.destroy();
    this.owner.lost(this, this.queue.splice(0));
  }
}
