/**
 * One end of the multiplexed intproxy ⇄ agent stream: frames in and out, requests matched to their
 * answers by id, and everything else (requests to serve, connection traffic) handed to `onMessage`.
 * The transport is any pair of byte streams: a child's stdio for a `pid/` target, a port-forwarded
 * socket for a pod.
 */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { E, EHOSTDOWN } from '../common/errno.js';
import { encode, FrameReader } from '../protocol/codec.js';
import { ProtocolError, VersionMismatch } from '../protocol/errors.js';
import { messages, type MessageName } from '../protocol/spec.js';
import type { Message, MessageOf, Unsent } from '../protocol/types.js';

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

/** What a relay needs of a link: a way to send frames (a Link, or the intproxy's AgentLink). */
export interface FrameSink {
  send(m: Message): boolean;
}

/** What a service needs of the link to its peer: frames, and requests answered by id. */
export interface LinkPeer extends FrameSink {
  request<N extends MessageName>(type: N, fields: Omit<MessageOf<N>, 'type' | 'id'>): Promise<Message>;
}

type Pending = { resolve: (m: Message) => void; reject: (e: Error) => void };

const DATA_CODE = messages.Data.code;
/** Bytes of a Data frame before its payload: length, type, id, conn, payload size. */
const DATA_HEAD = 4 + 2 + 4 + 4 + 4;

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

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    /** errno given to requests still waiting when the link closes. */
    private readonly lostErrno = EHOSTDOWN,
    /** How the two ends are named when their protocol versions differ ("the agent", "this podlink"). */
    private readonly names: { self: string; peer: string } = { self: 'this side', peer: 'the peer' },
  ) {
    super();
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    input.on('end', () => this.shutdown(new Error('the other side closed the stream')));
    input.on('error', (e) => this.shutdown(e));
    output.on('error', (e) => this.shutdown(e));
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  private onData(chunk: Buffer): void {
    let msgs: Message[];
    try {
      msgs = this.reader.push(chunk);
    } catch (e) {
      if (e instanceof VersionMismatch) this.refuse(e);
      this.shutdown(e instanceof ProtocolError ? e : new Error(String(e)));
      return;
    }
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
      this.emit('message', m);
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

  /** Send a frame. Returns false when the transport is buffering (callers with windows ignore it). */
  send(m: Message): boolean {
    if (this.closedWith !== null) return false;
    if (m.type === 'Data') return this.sendData(m.id, m.conn, m.data);
    return this.output.write(encode(m));
  }

  /**
   * A Data frame without copying its bytes: the header, then the caller's buffer, in one writev. (The
   * same bytes `encode` would produce: u32 length | u16 type | u32 id | u32 conn | u32 size | data.)
   */
  private sendData(id: number, conn: number, data: Uint8Array): boolean {
    const head = Buffer.allocUnsafe(DATA_HEAD);
    head.writeUInt32LE(DATA_HEAD - 4 + data.length, 0);
    head.writeUInt16LE(DATA_CODE, 4);
    head.writeUInt32LE(id, 6);
    head.writeUInt32LE(conn, 10);
    head.writeUInt32LE(data.length, 14);
    this.output.cork();
    this.output.write(head);
    const ok = this.output.write(data);
    this.output.uncork();
    return ok;
  }

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
