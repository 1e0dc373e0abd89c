/**
 * One dispatcher per (pod, port): the sessions stealing that port of the target — this agent's own
 * and, through the port's share (share.ts), those of other agents in the same network namespace —
 * and what happens to each connection the redirect brings. Only the agent hosting the port has one.
 *
 *   steal, no filter   the whole connection goes to that session (its relay); refused with a reset
 *                      when the local side cannot take it (nothing listens, the link is down). On a
 *                      port the kubelet probes (probes.ts) the request head is read first: a
 *                      kubelet probe goes to the original app, anything else to the session.
 *   steal, filtered    HTTP is parsed once (http1.ts, http2.ts) and each request goes to the first
 *                      matching session in the order the sessions first subscribed (`owner.since`,
 *                      kept across reconnects and hand-overs); unmatched requests, and all of them
 *                      when the local side cannot be reached, go to the original app. A client that
 *                      sends nothing HTTP-like (or nothing within DETECT_MS: a protocol where the
 *                      server speaks first) is passed to the original app whole.
 *
 * Conflicts are refused (SubscribeError EBUSY, naming the other sessions): a port is stolen whole by
 * one session, or shared by sessions whose filters differ. The redirect exists exactly while at least
 * one session steals the port here.
 */
import net from 'node:net';
import { E } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import type { Endpoints, IncomingSession } from './delivery.js';
import type { RequestFilter, RequestView, WireFilter } from './filter.js';
import { Http1Dispatch, type Router } from './http1.js';
import { H2_PREFACE, Http2Dispatch } from './http2.js';
import { addrOf, passThrough } from './passthrough.js';
import { headIsKubeProbe, isKubeProbe, isProbePort } from './probes.js';
import type { Redirector } from './redirect.js';
import { Serial } from '../../common/serial.js';

const log = logger('agent');

/** How long a filtered port waits for a client's first bytes before passing it through whole. */
export const DETECT_MS = 1000;
/** A request head longer than this on a probed port is not a probe. */
const MAX_PROBE_HEAD = 16 * 1024;

/** Who subscribed (protocol/spec.ts `Subscribe.owner`), `since` in ms since the epoch. */
export interface Owner {
  user: string;
  host: string;
  since: number;
}

export interface Subscriber {
  session: IncomingSession;
  /** Undefined = the whole port. */
  filter?: RequestFilter;
  /** The filter as sent (identical filters are refused). */
  wire: WireFilter;
  /** What the filter is, for messages (`header ^X-Dev-User: alice$`, `unfiltered`). */
  describe: string;
  owner: Owner;
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

/** `alice@laptop-1 (header ^X-Dev-User: alice$, since 14:02:11)`. */
export function who(s: Pick<Subscriber, 'owner' | 'describe'>): string {
  const since = new Date(s.owner.since).toISOString().slice(11, 19);
  return `${s.owner.user}@${s.owner.host} (${s.describe}, since ${since} UTC)`;
}

/** Why `sub` cannot join `others` stealing `port`, or undefined. */
export function conflict(port: number, sub: Subscriber, others: Subscriber[]): string | undefined {
  if (!others.length) return undefined;
  const whole = others.find((s) => !s.filter);
  if (whole) return `port ${port} is stolen whole by ${who(whole)}: nobody else can steal it until that session ends (or steals with an http_filter)`;
  const names = others.map(who).join(', ');
  if (!sub.filter) return `port ${port} is shared by HTTP filters of ${names}: an unfiltered steal would take their requests; steal with an http_filter of your own`;
  const same = others.find((s) => JSON.stringify(s.wire) === JSON.stringify(sub.wire));
  if (same) return `port ${port} is already filtered by ${who(same)} with the same filter: only one session can take those requests; use a filter of your own (e.g. your own X-Dev-User)`;
  return undefined;
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
  /** Redirected client connections, cut when the dispatcher stops (the port is handed over). */
  private readonly clients = new Set<net.Socket>();
  private readonly http1 = new Http1Dispatch(this);
  private readonly http2 = new Http2Dispatch(this);
  /** Adds, removals and the stop apply one after the other. */
  private readonly serial = new Serial();

  constructor(
    readonly port: number,
    private readonly redirector: () => Promise<Redirector>,
  ) {}

  get empty(): boolean {
    return this.subs.length === 0;
  }

  /** Whether the port is redirected to this dispatcher now. */
  get stealing(): boolean {
    return this.server !== undefined;
  }

  /** Who steals the port here, in order. */
  subscribers(): readonly Subscriber[] {
    return this.subs;
  }

  choose(view: RequestView): IncomingSession | undefined {
    if (isProbePort(this.port) && isKubeProbe(view)) return undefined;
    for (const s of this.subs) if (s.filter?.(view)) return s.session;
    return undefined;
  }

  h2c(socket: net.Socket, ends: Endpoints, head: Buffer): void {
    this.http2.serve(socket, ends, head);
  }


  /** Adds (or, for a session already here, replaces) a subscription; SubscribeError EBUSY when it conflicts. */
  add(sub: Subscriber): Promise<void> {
    return this.serial.run(async () => {
      const others = this.subs.filter((s) => s.session.id !== sub.session.id);
      const why = conflict(this.port, sub, others);
      if (why) throw new SubscribeError(E.EBUSY, why);
      const before = this.subs;
      // The first registered matching filter wins: keep the order of `since` (then of arrival).
      this.subs = [...others, sub].sort((a, b) => a.owner.since - b.owner.since);
      try {
        await this.startStealing();
      } catch (e) {
        this.subs = before;
        throw e;
      }
      log.debug('incoming', `port ${this.port}: ${who(sub)} (${sub.session.describe})`);
    });
  }

  /** Drops a session's subscription; the redirect goes with the last one. */
  remove(sessionId: string): Promise<void> {
    return this.serial.run(async () => {
      this.subs = this.subs.filter((s) => s.session.id !== sessionId);
      if (!this.subs.length) await this.stopStealing();
    });
  }

  /** Everything stops: the redirect, the listener, every redirected connection (requests in flight are cut). */
  stop(): Promise<void> {
    return this.serial.run(async () => {
      this.subs = [];
      await this.stopStealing();
    });
  }

  private async stopStealing(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.close();
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    await (await this.redirector()).remove(this.port).catch((e: Error) => log.warn(`port ${this.port}: removing the redirect: ${e.message}`));
  }

  /** The agent's own listener for redirected connections, then the redirect to it. */
  private async startStealing(): Promise<void> {
    if (this.server) return;
    const redirector = await this.redirector();
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
    this.clients.add(socket);
    socket.once('close', () => this.clients.delete(socket));
    const ends: Endpoints = { remote: addrOf(socket.remoteAddress, socket.remotePort), local: addrOf(socket.localAddress, this.port) };
    const whole = this.subs.find((s) => !s.filter);
    if (whole) return isProbePort(this.port) ? this.stealUnlessProbe(whole.session, socket, ends) : this.stealWhole(whole.session, socket, ends);
    if (!this.subs.length) return passThrough(socket, ends.local);
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

  /**
   * A whole steal of a port the kubelet probes: the request head decides. A kubelet probe goes to the
   * original app; anything else (another protocol, no bytes within DETECT_MS) to the session, its
   * first bytes put back. A client that half-closes before its head is complete goes to the app.
   */
  private stealUnlessProbe(session: IncomingSession, socket: net.Socket, ends: Endpoints): void {
    const judge = (head: Buffer): 'session' | 'app' | undefined => {
      const kind = classify(head);
      if (kind === undefined) return undefined;
      if (kind !== 'h1') return 'session';
      const probe = headIsKubeProbe(head);
      if (probe !== undefined) return probe ? 'app' : 'session';
      return head.length > MAX_PROBE_HEAD ? 'session' : undefined;
    };
    readHead(socket, judge, { quiet: 'session', ended: (head) => (head.length ? 'app' : 'session') }, (to, head) => {
      if (to === 'app') return passThrough(socket, ends.local, head);
      if (head.length) socket.unshift(head);
      this.stealWhole(session, socket, ends);
    });
  }

  /** Reads the first bytes to know the protocol, then hands the connection (bytes unconsumed) on. */
  private sniff(socket: net.Socket, ends: Endpoints): void {
    readHead(socket, classify, { quiet: 'other', ended: () => 'other' }, (kind, head) => {
      if (kind === 'h2') this.http2.serve(socket, ends, head);
      else if (kind === 'h1') this.http1.serve(socket, ends, head);
      else passThrough(socket, ends.local, head);
    });
  }
}

/**
 * Reads a connection's first bytes until `judge` decides where it goes (undefined: not yet). No bytes
 * for DETECT_MS decide `quiet`; the client's end, `ended(head)`. `then` gets the decision and the bytes
 * read, with the socket paused.
 */
function readHead<D>(socket: net.Socket, judge: (head: Buffer) => D | undefined, otherwise: { quiet: D; ended: (head: Buffer) => D }, then: (d: D, head: Buffer) => void): void {
  let head: Buffer = Buffer.alloc(0);
  let decided = false;
  const decide = (d: D): void => {
    if (decided) return;
    decided = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    then(d, head);
  };
  const onData = (b: Buffer): void => {
    head = head.length ? Buffer.concat([head, b]) : b;
    const d = judge(head);
    if (d !== undefined) decide(d);
  };
  const onEnd = (): void => decide(otherwise.ended(head));
  const timer = setTimeout(() => decide(otherwise.quiet), DETECT_MS);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.resume();
}
