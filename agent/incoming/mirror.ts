/**
 * Mirror: copies of a port's connections for the sessions that subscribed it, captured — never proxied.
 * The pod's traffic path does not change at all: agent/capture (a small C program, since Node has no
 * raw sockets) reads a copy of the packets that reach the subscribed ports from an AF_PACKET socket in
 * the target's network namespace, reassembles each client's byte stream in order, and streams
 * {flow, event, bytes} to the agent over a pipe. Each flow becomes, for each mirroring session, an
 * incoming connection to the local app (IncomingOpen, mode mirror); the app's answers are dropped by
 * the intproxy.
 *
 * Falling behind drops copies, never slows the pod: a session's copy that would exceed its window
 * (the laptop is behind) is closed (ENOBUFS) and the rest of that flow is not copied for it; when the
 * agent does not read the pipe fast enough, the helper drops flows (DROP); when the helper does not
 * read its socket fast enough, the kernel drops packets from that socket only, and the flows with a
 * gap are dropped too. The pod sends and receives exactly as before in every case.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { E } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import { captureHelper } from '../../common/paths.js';
import { INITIAL_WINDOW, MAX_DATA_CHUNK } from '../../protocol/spec.js';
import type { Addr } from '../../protocol/types.js';
import type { Endpoints, LinkOpened, LinkSession } from './delivery.js';
import { PASSTHROUGH_SOURCE } from './redirect.js';

const log = logger('agent');

/** A mirrored port: the sessions (of this agent) that want a copy of each of its connections. */
export interface MirrorPort {
  mirrors(): LinkSession[];
}

const EV = { ready: 0, open: 1, data: 2, end: 3, reset: 4, drop: 5, ports: 6 } as const;
/** A record's length, event and flow. */
const RECORD_HEADER = 9;

function ipOf(family: number, b: Buffer): string {
  if (family === 4) return [...b.subarray(0, 4)].join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(':');
}

/** One session's copy of one flow. */
class Copy {
  private opened: LinkOpened | undefined;
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private window = INITIAL_WINDOW;
  private dead = false;
  private ended = false;

  constructor(session: LinkSession, port: number, ends: Endpoints) {
    session.open(port, 'mirror', ends).then(
      (o) => {
        if (this.dead) return o.abandon(E.ECONNRESET);
        this.opened = o;
        o.attach({
          onFrame: (f) => {
            if (f.type === 'Window') this.window += f.bytes;
            else if (f.type === 'Close') {
              this.dead = true;
              o.release();
            }
          },
          destroy: () => void (this.dead = true),
        });
        for (const b of this.early.splice(0)) this.data(b);
        this.earlyBytes = 0;
        if (this.ended) this.end();
      },
      () => void (this.dead = true), // nothing listens locally: no copy
    );
  }

  data(b: Buffer): void {
    if (this.dead) return;
    const o = this.opened;
    if (!o) {
      if (this.earlyBytes + b.length > INITIAL_WINDOW) return this.drop();
      this.early.push(b);
      this.earlyBytes += b.length;
      return;
    }
    if (b.length > this.window) return this.drop(); // the laptop is behind: give this copy up
    for (let off = 0; off < b.length; off += MAX_DATA_CHUNK) o.link.send({ type: 'Data', id: 0, conn: o.conn, data: b.subarray(off, off + MAX_DATA_CHUNK) });
    this.window -= b.length;
  }

  end(): void {
    this.ended = true;
    if (this.opened && !this.dead) this.opened.link.send({ type: 'Shutdown', id: 0, conn: this.opened.conn });
  }

  drop(errno: number = E.ENOBUFS): void {
    if (this.dead) return;
    this.dead = true;
    this.early = [];
    this.opened?.abandon(errno);
  }
}

export class Mirror {
  private readonly ports = new Map<number, MirrorPort>();
  private readonly flows = new Map<number, Copy[]>();
  private readonly acks: (() => void)[] = [];
  /** A record's header while it straddles two reads, and the record being read. */
  private header: Buffer = Buffer.alloc(0);
  private record: { ev: number; flow: number; left: number; parts: Buffer[] } | undefined;
  private stderr = '';
  private exited: string | undefined;
  private readyWaiter: ((err?: Error) => void) | undefined;

  private constructor(private readonly helper: ChildProcess) {
    helper.stdout!.on('data', (c: Buffer) => this.onData(c));
    helper.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    helper.stdin!.on('error', () => undefined);
    const gone = (why: string): void => {
      this.exited ??= this.stderr.trim().split('\n').pop() || why;
      this.readyWaiter?.(new Error(this.exited));
      for (const a of this.acks.splice(0)) a();
      for (const copies of this.flows.values()) for (const c of copies) c.drop(E.ECONNRESET);
      this.flows.clear();
    };
    helper.once('error', (e) => gone(`cannot run the capture helper ${captureHelper}: ${e.message}`));
    helper.once('exit', (code, sig) => gone(`the capture helper exited (${sig ?? `status ${code}`})`));
  }

  /** Starts the capture helper; rejects with the line that says what is missing (CAP_NET_RAW, the helper). */
  static async start(bin = process.env['PODLINK_CAPTURE'] ?? captureHelper): Promise<Mirror> {
    // The agent's own connections to the original app (unmatched requests of a filtered steal) are not the pod's clients.
    const m = new Mirror(spawn(bin, ['--ignore-source', PASSTHROUGH_SOURCE], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await new Promise<void>((resolve, reject) => (m.readyWaiter = (err) => (err ? reject(new Error(`mirror is not available: ${err.message}`)) : resolve())));
    m.readyWaiter = undefined;
    log.debug('mirror', `capture helper ${m.helper.pid} ready`);
    return m;
  }

  async watch(port: number, source: MirrorPort): Promise<void> {
    this.ports.set(port, source);
    await this.sendPorts();
  }

  async unwatch(port: number): Promise<void> {
    if (!this.ports.delete(port)) return;
    await this.sendPorts();
  }

  /** The helper's filter follows the set of watched ports; resolves once it is in place. */
  private sendPorts(): Promise<void> {
    if (this.exited) return Promise.reject(new Error(`mirror is not available: ${this.exited}`));
    this.helper.stdin!.write(`ports ${[...this.ports.keys()].join(' ')}\n`);
    return new Promise((resolve) => this.acks.push(resolve));
  }

  /**
   * Records (`u32 length | u8 event | u32 flow | payload`, length counting from the event) as they
   * come, whatever the pipe's reads cut: a data record's payload is passed on piece by piece as views
   * of the reads (a record of a large segment spans several reads; gathering it first would copy it),
   * the others, small, are gathered whole.
   */
  private onData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const r = this.record;
      if (!r) {
        if (!this.header.length && chunk.length - off >= RECORD_HEADER) {
          this.startRecord(chunk.subarray(off, off + RECORD_HEADER));
          off += RECORD_HEADER;
          continue;
        }
        const take = Math.min(RECORD_HEADER - this.header.length, chunk.length - off);
        this.header = Buffer.concat([this.header, chunk.subarray(off, off + take)]);
        off += take;
        if (this.header.length < RECORD_HEADER) return;
        this.startRecord(this.header);
        this.header = Buffer.alloc(0);
        continue;
      }
      const n = Math.min(r.left, chunk.length - off);
      const piece = chunk.subarray(off, off + n);
      off += n;
      r.left -= n;
      if (r.ev === EV.data) this.onEvent(EV.data, r.flow, piece);
      else r.parts.push(piece);
      if (r.left === 0) this.endRecord();
    }
  }

  private startRecord(h: Buffer): void {
    this.record = { ev: h[4]!, flow: h.readUInt32LE(5), left: h.readUInt32LE(0) - 5, parts: [] };
    if (this.record.left <= 0) this.endRecord();
  }

  private endRecord(): void {
    const r = this.record!;
    this.record = undefined;
    if (r.ev !== EV.data) this.onEvent(r.ev, r.flow, r.parts.length === 1 ? r.parts[0]! : Buffer.concat(r.parts));
  }

  private onEvent(ev: number, flow: number, payload: Buffer): void {
    switch (ev) {
      case EV.ready:
        return this.readyWaiter?.();
      case EV.ports:
        return this.acks.shift()?.();
      case EV.open: {
        const family = payload[0]!;
        const sport = payload.readUInt16LE(1);
        const dport = payload.readUInt16LE(3);
        const d = this.ports.get(dport);
        const sessions = d?.mirrors() ?? [];
        if (!sessions.length) return;
        const remote: Addr = { family: family === 6 ? 6 : 4, ip: ipOf(family, payload.subarray(5, 21)), port: sport };
        const local: Addr = { family: remote.family, ip: ipOf(family, payload.subarray(21, 37)), port: dport };
        this.flows.set(flow, sessions.map((s) => new Copy(s, dport, { remote, local })));
        return;
      }
      case EV.data:
        // Not copied: a read from the pipe is memory of its own that nothing writes again, so every
        // session's copy can send this view of it.
        for (const c of this.flows.get(flow) ?? []) c.data(payload);
        return;
      case EV.end:
        for (const c of this.flows.get(flow) ?? []) c.end();
        this.flows.delete(flow);
        return;
      case EV.reset:
      case EV.drop:
        for (const c of this.flows.get(flow) ?? []) c.drop(ev === EV.reset ? E.ECONNRESET : E.ENOBUFS);
        this.flows.delete(flow);
        return;
    }
  }
}
