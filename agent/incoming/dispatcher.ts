/**
 * One dispatcher per (pod, port): the sessions subscribed to that port of the target, in the order
 * they subscribed, and what happens to each connection that reaches it.
 *
 *   steal, no filter   the whole connection goes to that session (its relay); refused with a reset
 *                      when the local side cannot take it (nothing listens, the link is down).
 *   steal, filtered    HTTP is parsed once (http1.ts, http2.ts) and each request goes to the first
 *                      session, in subscription order, whose filter takes it; unmatched requests,
 *                      and all of them when the local side cannot be reached, go to the original app.
 *                      A client that sends nothing HTTP-like (or nothing within DETECT_MS: a protocol
 *                      where the server speaks first) is passed to the original app whole.
 *   mirror             never redirected: the capture (mirror.ts) gives each subscribed session a copy.
 *
 * A port is stolen whole by one session, or shared by filtered sessions; mixing the two is refused,
 * naming the port. The redirect exists exactly while at least one session steals the port.
 */
import net from 'node:net';
import { E } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import { LinkSession, type Endpoints, type IncomingSession } from './delivery.js';
import type { RequestFilter, RequestView } from './filter.js';
import { Http1Dispatch, type Router } from './http1.js';
import { H2_PREFACE, Http2Dispatch } from './http2.js';
import { addrOf, passThrough } from './passthrough.js';
import type { Redirector } from './redirect.js';

const log = logger('agent');

/** How long a filtered port waits for a client's first bytes before passing it through whole. */
export const DETECT_MS = 1000;

export interface Subscriber {
  session: IncomingSession;
  mode: 'mirror' | 'steal';
  /** Steal only: undefined = the whole port. */
  filter?: RequestFilter;
  /** For messages: what the filter is. */
  describe: string;
}

/** A refused subscription: the errno and the line that says why. */
export class SubscribeError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

/** The copies of a port's traffic (mirror.ts). */
export interface MirrorSource {
  watch(port: number, dispatcher: PortDispatcher): Promise<void>;
  unwatch(port: number): Promise<void>;
}

export interface DispatcherDeps {
  redirector(): Promise<Redirector>;
  mirror(): Promise<MirrorSource>;
}

/** HTTP/2 prior knowledge, HTTP/1 (a method token and a space), something else, or not yet known. */
export function classify(head: Buffer): 'h1' | 'h2' | 'other' | undefined {
  const n = Math.min(head.length, H2_PREFACE.length);
  if (head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return head.length >= H2_PREFACE.length ? 'h2' : undefined;
  const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+( |$)/.exec(head.toString('latin1'));
  if (!m) return 'other';
  if (m[1] === ' ') return 'h1';
  return head.length > 32 ? 'other' : undefined;
}

export class PortDispatcher implements Router {
  private subs: Subscriber[] = [];
  private server: net.Server | undefined;
  private readonly http1 = new Http1Dispatch(this);
  private readonly http2 = new Http2Dispatch(this);

  constructor(
    readonly port: number,
    private readonly deps: DispatcherDeps,
  ) {}

  get empty(): boolean {
    return this.subs.length === 0;
  }

  /** Whether the port is redirected to this dispatcher now. */
  get stealing(): boolean {
    return this.server !== undefined;
  }

  /** Sessions that want copies of this port's connections. */
  mirrors(): LinkSession[] {
    const out: LinkSession[] = [];
    for (const s of this.subs) if (s.mode === 'mirror' && s.session instanceof LinkSession) out.push(s.session);
    return out;
  }

  choose(view: RequestView): IncomingSession | undefined {
    for (const s of this.subs) if (s.mode === 'steal' && s.filter?.(view)) return s.session;
    return undefined;
  }

  private stealers(): Subscriber[] {
    return this.subs.filter((s) => s.mode === 'steal');
  }

  /** Adds (or, for a session already here, replaces) a subscription; SubscribeError when it conflicts. */
  async add(sub: Subscriber): Promise<void> {
    const others = this.subs.filter((s) => s.session.id !== sub.session.id);
    if (sub.mode === 'steal') {
      const stealing = others.filter((s) => s.mode === 'steal');
      const whole = stealing.find((s) => !s.filter);
      if (whole || (!sub.filter && stealing.length)) {
        const who = (whole ?? stealing[0]!).session.describe;
        throw new SubscribeError(E.EBUSY, `port ${this.port} is already stolen by ${who}${whole ? '' : ' with an HTTP filter'}; a port is stolen whole by one session, or shared by HTTP filters`);
      }
    }
    const before = this.subs;
    this.subs = [...others, sub];
    try {
      if (sub.mode === 'steal') await this.startStealing();
      else await (await this.deps.mirror()).watch(this.port, this);
    } catch (e) {
      this.subs = before;
      await this.settle();
      throw e;
    }
    if (before.some((s) => s.session.id === sub.session.id && s.mode !== sub.mode)) await this.settle();
    log.debug('incoming', `port ${this.port}: ${sub.mode} (${sub.describe}) for ${sub.session.describe}`);
  }

  /** Drops a session's subscription; the redirect and the capture go with the last one that needs them. */
  async remove(sessionId: string): Promise<void> {
    this.subs = this.subs.filter((s) => s.session.id !== sessionId);
    await this.settle();
  }

  /** Stops what no subscription needs any more. */
  private async settle(): Promise<void> {
    if (!this.stealers().length && this.server) {
      const server = this.server;
      this.server = undefined;
      server.close();
      await (await this.deps.redirector()).remove(this.port).catch((e: Error) => log.warn(`port ${this.port}: removing the redirect: ${e.message}`));
    }
    if (!this.subs.some((s) => s.mode === 'mirror')) await (await this.deps.mirror().catch(() => undefined))?.unwatch(this.port);
  }

  /** The agent's own listener for redirected connections, then the redirect to it. */
  private async startStealing(): Promise<void> {
    if (this.server) return;
    const redirector = await this.deps.redirector();
    const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (s) => this.onConnection(s));
    const listen = (host: string): Promise<void> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0, ipv6Only: false }, () => (server.off('error', reject), resolve()));
      });
    // Dual-stack where the pod has IPv6; IPv4 only where it has not.
    await listen('::').catch(() => listen('0.0.0.0'));
    this.server = server;
    const to = (server.address() as net.AddressInfo).port;
    try {
      await redirector.add(this.port, to);
    } catch (e) {
      this.server = undefined;
      server.close();
      throw new SubscribeError(E.EIO, `port ${this.port}: the redirect could not be installed: ${(e as Error).message}`);
    }
  }

  private onConnection(socket: net.Socket): void {
    socket.on('error', () => undefined); // a reset client: whatever carries it on sees the close
    const ends: Endpoints = { remote: addrOf(socket.remoteAddress, socket.remotePort), local: addrOf(socket.localAddress, this.port) };
    const stealing = this.stealers();
    const whole = stealing.find((s) => !s.filter);
    if (whole) return this.stealWhole(whole.session, socket, ends);
    if (!stealing.length) return passThrough(socket, ends.local);
    this.sniff(socket, ends);
  }

  private stealWhole(session: IncomingSession, socket: net.Socket, ends: Endpoints): void {
    session.open(this.port, 'steal', ends).then(
      (o) => {
        if (socket.destroyed) return o.abandon(E.ECONNRESET);
        o.relay(socket);
        socket.resume();
      },
      // Nothing local takes it (the app does not listen, the link is down): refused, as a closed port is.
      () => socket.resetAndDestroy(),
    );
  }

  /** Reads the first bytes to know the protocol, then hands the connection (bytes unconsumed) on. */
  private sniff(socket: net.Socket, ends: Endpoints): void {
    let head = Buffer.alloc(0);
    let decided = false;
    const decide = (kind: 'h1' | 'h2' | 'other'): void => {
      if (decided) return;
      decided = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (kind === 'h2') this.http2.serve(socket, ends, head);
      else if (kind === 'h1') this.http1.serve(socket, ends, head);
      else passThrough(socket, ends.local, head);
    };
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const kind = classify(head);
      if (kind) decide(kind);
    };
    const timer = setTimeout(() => decide('other'), DETECT_MS);
    socket.on('data', onData);
    socket.once('end', () => decide('other'));
    socket.resume();
  }

  /** Everything stops (the agent is exiting). */
  close(): void {
    this.subs = [];
    this.server?.close();
    this.server = undefined;
  }
}
