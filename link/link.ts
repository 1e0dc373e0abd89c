/**
 * One end of the multiplexed intproxy ⇄ agent stream: frames in and out, requests matched to their
 * answers by id, connection traffic (Data, Window, Shutdown, Close) handed straight to the route set
 * with `routeConns` (a ConnTable's), and everything else (requests to serve) emitted as `message`.
 * The transport is any pair of byte streams: a child's stdio for a `pid/` target, a port-forwarded
 * socket for a pod.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { E, EHOSTDOWN } from '../common/errno.js';
import { DATA_HEADER, encode, encodeData, encodeDataHeader, FrameReader } from '../protocol/codec.js';
import { ProtocolError, VersionMismatch } from '../protocol/errors.js';
import { messages, type MessageName } from '../protocol/spec.js';
import type { Message, MessageOf, Unsent } from '../protocol/types.js';
import { isConnFrame, type ConnFrame } from './conns.js';
import { io, trace } from './trace.js';

/** A request failed on the other side (Error frame) or the link went away before it was answered. */
export class RemoteError extends Error {
  override readonly name: string = 'RemoteError';
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

/** A request that was never answered because the link went away (not an answer of the peer's). */
export class LinkClosed extends RemoteError {
  override readonly name = 'LinkClosed';
}

/**
 * Why a link closed when the peer ended its stream (EOF). On a unix socket the peer then either read
 * everything sent to it before closing, or only half-closed and can still read: a close with bytes of
 * ours unread resets the link (ECONNRESET) and a write after the peer's close fails (EPIPE) — those
 * close the link with that error instead.
 */
export class StreamEnded extends Error {
  override readonly name = 'StreamEnded';
  constructor() {
    super('the other side closed the stream');
  }
}

/** What a relay needs of a link: a way to send frames (a Link, or the intproxy's AgentLink). */
export interface FrameSink {
  send(m: Message): boolean;
  /**
   * Frames sent from hold() to the matching release() go out together at release(), in one write,
   * without waiting for the end of the turn (Link.send).
   */
  hold(): void;
  release(): void;
}

/** What a service needs of the link to its peer: frames, and requests answered by id. */
export interface LinkPeer extends FrameSink {
  request<N extends MessageName>(type: N, fields: Omit<MessageOf<N>, 'type' | 'id'>): Promise<Message>;
}

type Pending = { resolve: (m: Message) => void; reject: (e: Error) => void };

/** Data payloads up to this size are copied into their frame (one buffer to write, not two). */
const SMALL_DATA = 4096;

/** Messages that answer a request: they carry the request's id. */
const responseTypes = new Set<MessageName>(
  (Object.keys(messages) as MessageName[]).filter((n) => messages[n].dir === 'res'),
);

export interface LinkEvents {
  message: [Message];
  close: [Error | undefined];
}

export class Link extends EventEmitter<LinkEvents> {
  private readonly reader = new FrameReader();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedWith: Error | undefined | null = null;
  /** Frames queued in this turn of the event loop (or while held): they go out together, in one write. */
  private corked = false;
  private holds = 0;
  private queuedFrames = 0;
  private queuedBytes = 0;
  /** Names this link in the trace: its peer ("agent", "layer", "podlink"). */
  private readonly hop: string;
  /** Where connection frames go (routeConns); until it is set they are emitted as `message`. */
  private connRoute: ((m: ConnFrame) => void) | undefined;
  /** Chunks read from the transport so far: a heartbeat's sign of life (AgentLink). */
  reads = 0;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    /** errno given to requests still waiting when the link closes. */
    private readonly lostErrno = EHOSTDOWN,
    /** How the two ends are named when their protocol versions differ ("the agent", "this podlink"). */
    private readonly names: { self: string; peer: string } = { self: 'this side', peer: 'the peer' },
  ) {
    super();
    this.hop = names.peer.replace(/^the /, '').split(' ')[0]!;
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    input.on('end', () => this.shutdown(new StreamEnded()));
    input.on('error', (e) => this.shutdown(e));
    output.on('error', (e) => this.shutdown(e));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Connection frames from now on go to `route`, not to `message` listeners. */
  routeConns(route: (m: ConnFrame) => void): void {
    this.connRoute = route;
  }

  private onData(chunk: Buffer): void {
    this.reads++;
    let msgs: Message[];
    try {
      msgs = this.reader.push(chunk);
    } catch (e) {
      if (e instanceof VersionMismatch) this.refuse(e);
      this.shutdown(e instanceof ProtocolError ? e : new Error(String(e)));
      return;
    }
    if (io.hasSubscribers) {
      trace('link-in', this.hop, 0, chunk.length, msgs.length);
      for (const m of msgs) if (m.type !== 'Data') trace('msg-in', this.hop, 'conn' in m ? m.conn : 0, 0, messages[m.type].code);
    }
    // What the frames of this read make us send goes out when they are all dispatched, not a tick later.
    this.hold();
    try {
      for (const m of msgs) {
        if (m.id !== 0 && responseTypes.has(m.type)) {
          const p = this.pending.get(m.id);
          if (p) {
            this.pending.delete(m.id);
            if (m.type === 'Error') p.reject(new RemoteError(m.errno, m.message));
            else p.resolve(m);
            continue;
          }
        }
        if (this.connRoute !== undefined && isConnFrame(m)) this.connRoute(m);
        else this.emit('message', m);
      }
    } finally {
      this.release();
    }
  }

  /**
   * A peer of another protocol version: its Hello is answered with an Error naming both releases (the
   * Error frame is the same in every version); a HelloOk fails the Hello request with that message.
   */
  private refuse(e: VersionMismatch): void {
    const message = `protocol version mismatch: ${this.names.self} is podlink ${e.ours.build || '?'} (protocol ${e.ours.version}), ${this.names.peer} podlink ${e.peerBuild || '?'} (protocol ${e.peerVersion})`;
    if (e.type === 'Hello') {
      this.send({ type: 'Error', id: e.id, errno: E.EPROTO, message });
      return;
    }
    const p = this.pending.get(e.id);
    this.pending.delete(e.id);
    p?.reject(new RemoteError(E.EPROTO, message));
  }

  /**
   * Send a frame. Frames sent in one turn of the event loop are written together when it ends (one
   * writev), or at release() when held; a large Data payload is written as it is, behind its header,
   * never copied. Returns false when the transport is buffering (callers with windows ignore it).
   */
  send(m: Message): boolean {
    if (this.closedWith !== null) return false;
    if (!this.corked) {
      this.corked = true;
      this.output.cork();
      if (this.holds === 0) process.nextTick(this.flush);
    }
    this.queuedFrames++;
    if (m.type === 'Data') {
      this.queuedBytes += DATA_HEADER + m.data.length;
      if (io.hasSubscribers) trace('frame-out', this.hop, m.conn, DATA_HEADER + m.data.length);
      // A request-sized payload is cheaper copied than written as a second buffer.
      if (m.data.length <= SMALL_DATA) return this.output.write(encodeData(m.id, m.conn, m.data));
      this.output.write(encodeDataHeader(m.id, m.conn, m.data.length));
      return this.output.write(m.data);
    }
    const frame = encode(m);
    this.queuedBytes += frame.length;
    if (io.hasSubscribers) trace('frame-out', this.hop, 'conn' in m ? m.conn : 0, frame.length, messages[m.type].code);
    return this.output.write(frame);
  }

  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.holds > 0 && --this.holds === 0) this.flush();
  }

  /** Writes the queued frames (at release(), or at the end of the turn: a no-op when released since). */
  private readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    if (io.hasSubscribers) trace('link-write', this.hop, 0, this.queuedBytes, this.queuedFrames);
    this.queuedFrames = 0;
    this.queuedBytes = 0;
    this.output.uncork();
  };

  /** Send a request with a fresh id and wait for its answer; an Error answer rejects with RemoteError. */
  request<N extends MessageName>(type: N, fields: Omit<MessageOf<N>, 'type' | 'id'>): Promise<Message> {
    if (this.closedWith !== null) {
      return Promise.reject(new LinkClosed(this.lostErrno, `link closed: ${this.closedWith?.message ?? 'closed'}`));
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type, id, ...fields } as unknown as Message);
    });
  }

  /** Answer a request received through `message`. */
  reply(to: Message, m: Unsent): void {
    this.send({ ...m, id: to.id } as Message);
  }

  replyError(to: Message, errno: number, message: string): void {
    this.send({ type: 'Error', id: to.id, errno, message });
  }

  /** Close the link: waiting requests fail with `lostErrno`, listeners get `close`. Idempotent. */
  shutdown(reason?: Error): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    for (const p of this.pending.values()) p.reject(new LinkClosed(this.lostErrno, `link closed: ${reason?.message ?? 'closed'}`));
    this.pending.clear();
    this.input.removeAllListeners('data');
    this.output.end();
    this.emit('close', reason);
  }
}
