/**
 * The connection table of one link end: every relayed connection's id, who owns it (the outgoing or
 * the incoming code) and which way it was opened, and the one place connection frames (`Data`,
 * `Window`, `Shutdown`, `Close`) are routed through, on both ends.
 *
 *   ids    the intproxy allocates 1 … 0x7fffffff (outgoing: the layer asked for a connection), the
 *          agent 0x80000001 … 0xffffffff (incoming: a connection reached the target's port). The top
 *          bit says who allocated an id, so the two ends never race for one.
 *   route  a frame for a known id goes to that connection's handler; for an unknown id it is dropped,
 *          or (with `resetUnknown`) answered with Close{ECONNRESET} when it carries Data, so a peer
 *          that missed our Close stops sending.
 */
import { E } from '../common/errno.js';
import type { FrameSink } from './link.js';
import type { Message, MessageOf } from '../protocol/types.js';
import type { DataPiece } from '../protocol/codec.js';

/** Which code serves a connection. */
export type ConnOwner = 'outgoing' | 'incoming';
/** `out`: this end asked the peer to open it; `in`: the peer opened it towards this end. */
export type ConnDirection = 'out' | 'in';
export type ConnFrame = MessageOf<'Data'> | MessageOf<'Window'> | MessageOf<'Shutdown'> | MessageOf<'Close'>;

/** What a connection needs to be routed to: a relay, or a connection still being set up. */
export interface ConnHandler {
  onFrame(m: ConnFrame): void;
  /** The link is gone: tear down without telling the peer (it cannot be told). */
  destroy(errno: number, silent?: boolean): void;
}

export interface ConnEntry {
  readonly conn: number;
  readonly owner: ConnOwner;
  readonly direction: ConnDirection;
  handler: ConnHandler;
}

/** The bit set in every id the agent allocates. */
export const AGENT_CONN_BIT = 0x80000000;
const ID_MASK = 0x7fffffff;

export function isConnFrame(m: Message): m is ConnFrame {
  return m.type === 'Data' || m.type === 'Window' || m.type === 'Shutdown' || m.type === 'Close';
}

/** Which end allocated `conn`. */
export function allocatedBy(conn: number): 'intproxy' | 'agent' {
  return conn >= AGENT_CONN_BIT ? 'agent' : 'intproxy';
}

export class ConnTable {
  private readonly entries = new Map<number, ConnEntry>();
  private next = 1;

  constructor(
    /** Which end this table belongs to: decides the id range `allocate` uses. */
    private readonly side: 'intproxy' | 'agent',
    private readonly link: FrameSink,
    private readonly opts: { resetUnknown?: boolean } = {},
  ) {}

  /** A fresh id of this end's range, not in use. */
  allocate(): number {
    for (;;) {
      const n = this.next;
      this.next = this.next >= ID_MASK ? 1 : this.next + 1;
      const conn = this.side === 'agent' ? (AGENT_CONN_BIT | n) >>> 0 : n;
      if (!this.entries.has(conn)) return conn;
    }
  }

  /** Registers `conn`; false when the id is in use (the caller answers EEXIST). */
  add(conn: number, owner: ConnOwner, direction: ConnDirection, handler: ConnHandler): boolean {
    if (this.entries.has(conn)) return false;
    this.entries.set(conn, { conn, owner, direction, handler });
    return true;
  }

  /** Replaces the handler of a registered connection (set-up finished: the relay takes over). */
  setHandler(conn: number, handler: ConnHandler): void {
    const e = this.entries.get(conn);
    if (e) e.handler = handler;
  }

  has(conn: number): boolean {
    return this.entries.has(conn);
  }

  get(conn: number): ConnEntry | undefined {
    return this.entries.get(conn);
  }

  /** The connection is gone on this end (its relay calls this). */
  delete(conn: number): void {
    this.entries.delete(conn);
  }

  /** Routes a connection frame from the peer. */
  route(m: ConnFrame): void {
    const e = this.entries.get(m.conn);
    if (e) return e.handler.onFrame(m);
    if (this.opts.resetUnknown && m.type === 'Data' && !(m as DataPiece).more) this.link.send({ type: 'Close', id: 0, conn: m.conn, errno: E.ECONNRESET });
  }

  /** Connections of `owner` (all when undefined). */
  count(owner?: ConnOwner): number {
    if (!owner) return this.entries.size;
    let n = 0;
    for (const e of this.entries.values()) if (e.owner === owner) n++;
    return n;
  }

  /**
   * The link is gone (or was replaced): every connection of `owner` (all when undefined) is torn down
   * with a reset, silently. Returns how many there were.
   */
  closeAll(owner?: ConnOwner): number {
    const gone = [...this.entries.values()].filter((e) => !owner || e.owner === owner);
    for (const e of gone) {
      this.entries.delete(e.conn);
      e.handler.destroy(E.ECONNRESET, true);
    }
    return gone.length;
  }
}
