/**
 * The way from the agent to one session's local process: every incoming connection (a stolen client,
 * a request that matched the session's filter, a mirrored copy) is opened with `IncomingOpen` under an
 * id the agent allocates (link/conns.ts), and the intproxy answers once it connected to the app's
 * listening socket. Frames the intproxy sends right after its answer wait in the table until the
 * connection's relay or stream is attached, so nothing is lost between the two.
 *
 * A port's dispatcher (dispatcher.ts) holds sessions only through this interface, so one dispatcher
 * can serve several sessions (issue "Several developers, one pod").
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { E, errnoOf } from '../../common/errno.js';
import type { ConnFrame, ConnHandler, ConnTable } from '../../link/conns.js';
import type { Link } from '../../link/link.js';
import { TcpRelay } from '../../link/relay.js';
import { LinkStream } from '../../link/stream.js';
import { IncomingMode } from '../../protocol/spec.js';
import type { Addr } from '../../protocol/types.js';

/** Where a connection to the target came from and went to. */
export interface Endpoints {
  remote: Addr;
  local: Addr;
}

/** A connection opened towards a session's local process, not yet attached to anything. */
export interface Opened {
  /** Relay a socket over it (the whole client connection). */
  relay(socket: net.Socket): void;
  /** Carry bytes over it as a Duplex (a request the HTTP dispatcher forwards). */
  stream(): Duplex;
  /** Nothing will be attached after all: close it towards the local process. */
  abandon(errno: number): void;
}

/** A connection of this agent's own link: what a mirrored copy needs besides. */
export interface LinkOpened extends Opened {
  conn: number;
  /** The frame sink, for a one-way copy (mirror). */
  readonly link: Link;
  /** Attach any handler (mirror copies). */
  attach(handler: ConnHandler): void;
  /** The peer closed it: forget it (nothing is sent). */
  release(): void;
}

/** One session as the dispatchers see it: this agent's own (LinkSession), or another agent's (peer.ts). */
export interface IncomingSession {
  /** Stable for the session's life; names it in errors. */
  readonly id: string;
  /** Who it is, for errors and `podlink sessions`: `alice@laptop-1 (pid 4242)`. */
  readonly describe: string;
  /** Open a connection towards the local process; rejects with an errno when it cannot be. */
  open(port: number, mode: 'mirror' | 'steal', ends: Endpoints): Promise<Opened>;
}

/** The session of one link end (agent/session.ts): opens connections on that link. */
export class LinkSession implements IncomingSession {
  constructor(
    readonly id: string,
    readonly describe: string,
    private readonly link: Link,
    private readonly conns: ConnTable,
  ) {}

  async open(port: number, mode: 'mirror' | 'steal', ends: Endpoints): Promise<LinkOpened> {
    const conn = this.conns.allocate();
    const early: ConnFrame[] = [];
    let gone = false;
    this.conns.add(conn, 'incoming', 'out', {
      onFrame: (f) => void early.push(f),
      destroy: () => void (gone = true),
    });
    try {
      await this.link.request('IncomingOpen', { conn, port, mode: IncomingMode[mode], remote: ends.remote, local: ends.local });
    } catch (e) {
      this.conns.delete(conn);
      throw Object.assign(new Error(`the local process took no connection: ${(e as Error).message}`), { errno: errnoOf(e) });
    }
    if (gone || this.link.closed) throw Object.assign(new Error('the link went away'), { errno: E.ECONNRESET });
    const drop = (c: number): void => this.conns.delete(c);
    const attach = (handler: ConnHandler): void => {
      this.conns.setHandler(conn, handler);
      for (const f of early.splice(0)) handler.onFrame(f);
    };
    return {
      conn,
      link: this.link,
      attach,
      relay: (socket) => attach(new TcpRelay(this.link, conn, socket, drop)),
      stream: () => {
        const s = new LinkStream(this.link, conn, drop);
        attach(s.handler);
        return s;
      },
      abandon: (errno) => {
        this.conns.delete(conn);
        this.link.send({ type: 'Close', id: 0, conn, errno });
      },
      release: () => this.conns.delete(conn),
    };
  }
}
