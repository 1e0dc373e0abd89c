/**
 * What one turn of the event loop writes to one stream goes out in one system call: slices that lie
 * next to each other in memory (the pieces the framer cut from one read: a head, its body, the next
 * request) are joined back into one view of that memory — no copy — and anything else is corked and
 * goes out in one writev when the turn's writes are done. A turn that writes one buffer writes it as
 * it is, without corking.
 */
import type { Writable } from 'node:stream';

/** Whether `b` starts where `a` ends, in the same memory. */
export function adjacent(a: Buffer, b: Buffer): boolean {
  return a.buffer === b.buffer && a.byteOffset + a.length === b.byteOffset;
}

export class TurnWrites {
  private pending: Buffer | undefined;
  private corked = false;

  constructor(
    private readonly stream: () => Pick<Writable, 'cork' | 'uncork'> | undefined,
    /** The real write; false: the stream's buffer is full. */
    private readonly write: (b: Buffer) => boolean,
  ) {}

  get idle(): boolean {
    return this.pending === undefined;
  }

  add(b: Buffer): void {
    const p = this.pending;
    if (!p) return void (this.pending = b);
    if (adjacent(p, b)) return void (this.pending = Buffer.from(p.buffer, p.byteOffset, p.length + b.length));
    if (!this.corked) {
      this.stream()?.cork();
      this.corked = true;
    }
    this.write(p);
    this.pending = b;
  }

  /** Writes what the turn gathered; the last write's answer (true when there was nothing). */
  flush(): boolean {
    const p = this.pending;
    this.pending = undefined;
    const ok = p ? this.write(p) : true;
    if (this.corked) {
      this.corked = false;
      this.stream()?.uncork();
    }
    return ok;
  }

  /** Forgets what was gathered (the stream is being reset). */
  drop(): void {
    this.pending = undefined;
    this.corked = false;
  }
}
