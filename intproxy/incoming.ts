/**
 * Incoming traffic, intproxy side.
 *
 *   Listen       a layer says its process listens on a port: unless the config leaves that port
 *                local, the target's port (after port_mapping) is subscribed with the agent in the
 *                session's mode, with the HTTP filter where it applies. Several listeners of one port
 *                (two processes, IPv4 and IPv6 sockets) share one subscription; it goes with the last.
 *   IncomingOpen the agent opens a connection (its own id): the intproxy connects to the app's real
 *                listening socket over loopback, answers Ok, and relays it — a mirrored copy one way
 *                only, the app's answers read and dropped. ECONNREFUSED when nothing listens.
 *   IncomingPeer the app accepted a connection from a loopback address: if it is one the intproxy
 *                made, the layer learns the real client (and getpeername gives it). A lookup that
 *                comes before the intproxy saw its own connect complete waits for the connects
 *                still in flight to that port, never for a timer.
 *
 * A listener belongs to the process that announced it: its Unlisten, or the end of that process's
 * last layer link, gives the port back. After a dropped agent link every port is subscribed again.
 */
import net from 'node:net';
import { E, errnoOf } from '../common/errno.js';
import { logger } from '../common/log.js';
import type { ConnTable } from '../link/conns.js';
import type { LinkPeer } from '../link/link.js';
import { TcpRelay } from '../link/relay.js';
import { IncomingMode } from '../protocol/spec.js';
import type { Addr, Message, MessageOf, Unsent } from '../protocol/types.js';
import { describeFilter } from '../agent/incoming/filter.js';
import { filterFor, portStaysLocal, remotePortOf, type IncomingSettings } from './incoming-settings.js';

const log = logger('intproxy');

/** What the CLI is told about each port (progress lines). */
export interface PortEvent {
  port: number;
  remotePort: number;
  mode: 'mirror' | 'steal';
  filter?: string;
  /** The config leaves the port local (incoming.ports, ignore_ports, ignore_localhost): why. */
  local?: string;
  /** The subscription failed: why. */
  error?: string;
  /** …because another session holds the port (on_concurrent_steal `abort`: the session ends). */
  conflict?: boolean;
  /** The app stopped listening: the port was given back to the target. */
  released?: boolean;
}

/** What the intproxy needs of its agent link to serve the agent's own requests. */
export interface AgentPeer extends LinkPeer {
  reply(to: Message, m: Unsent): void;
  replyError(to: Message, errno: number, message: string): void;
}

interface Listener {
  pid: number;
  local: Addr;
  appPort: number;
  remotePort: number;
}

interface Subscription {
  listeners: Listener[];
  /** The app's port (the first listener's), for the line that says it was given back. */
  appPort: number;
  /** When this session first subscribed the port (kept across reconnects: the order of filters). */
  since: bigint;
  /** Resolves once the agent answered (rejects with its error). */
  ready: Promise<void>;
}

const key = (a: { ip: string; port: number }): string => `${a.ip}|${a.port}`;
const isLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.');

function refusal(errno: number, message: string): Error & { errno: number } {
  return Object.assign(new Error(message), { errno });
}

export class IntproxyIncoming {
  private readonly subs = new Map<number, Subscription>();
  /** The intproxy's end of each delivered connection → who the app is really talking to. */
  private readonly peers = new Map<string, { remote: Addr; local: Addr }>();
  /** Connects to a local port still in flight, and lookups waiting for them to settle. */
  private readonly inFlight = new Map<number, { n: number; waiters: (() => void)[] }>();

  constructor(
    private readonly agent: AgentPeer,
    private readonly conns: ConnTable,
    private readonly settings: IncomingSettings,
    private readonly tell: (e: PortEvent) => void,
  ) {}

  /** A layer's Listen: resolves when the target's port is subscribed, rejects (errno) when it stays local. */
  async listen(m: MessageOf<'Listen'>, pid: number): Promise<void> {
    const why = portStaysLocal(this.settings, m.port, isLoopback(m.local.ip));
    const remotePort = remotePortOf(this.settings, m.port);
    if (why) {
      this.tell({ port: m.port, remotePort, mode: this.settings.mode, local: why });
      throw refusal(E.ENOENT, why);
    }
    const listener: Listener = { pid, local: m.local, appPort: m.port, remotePort };
    let sub = this.subs.get(remotePort);
    if (!sub) {
      const since = BigInt(Date.now());
      sub = { listeners: [], appPort: m.port, since, ready: this.subscribe(remotePort, m.port, since) };
      this.subs.set(remotePort, sub);
      sub.ready.catch(() => this.subs.get(remotePort) === sub && this.subs.delete(remotePort));
    }
    sub.listeners.push(listener);
    await sub.ready;
  }

  private async subscribe(remotePort: number, appPort: number, since: bigint): Promise<void> {
    const filter = filterFor(this.settings, remotePort);
    const event: PortEvent = { port: appPort, remotePort, mode: this.settings.mode };
    if (filter.match !== 0) event.filter = describeFilter(filter);
    const owner = { ...this.settings.owner, since };
    try {
      await this.agent.request('Subscribe', { port: remotePort, mode: IncomingMode[this.settings.mode], filter, owner });
    } catch (e) {
      const message = (e as Error).message;
      if (errnoOf(e) !== E.EBUSY) this.tell({ ...event, error: message });
      else if (this.settings.onConcurrentSteal === 'continue') this.tell({ ...event, local: `${message} (on_concurrent_steal: continue)` });
      else this.tell({ ...event, error: message, conflict: true });
      throw e;
    }
    this.tell(event);
  }

  /** The listener bound to `local` of process `pid` is closed. */
  unlisten(local: Addr, pid: number): void {
    for (const [port, sub] of this.subs) {
      sub.listeners = sub.listeners.filter((l) => !(l.pid === pid && key(l.local) === key(local)));
      if (!sub.listeners.length) this.drop(port);
    }
  }

  /** Every layer link of process `pid` is gone: so are its listeners. */
  processGone(pid: number): void {
    for (const [port, sub] of this.subs) {
      sub.listeners = sub.listeners.filter((l) => l.pid !== pid);
      if (!sub.listeners.length) this.drop(port);
    }
  }

  private drop(remotePort: number): void {
    const sub = this.subs.get(remotePort);
    this.subs.delete(remotePort);
    this.agent.request('Unsubscribe', { port: remotePort }).catch((e: Error) => log.debug('incoming', `unsubscribe ${remotePort}: ${e.message}`));
    // Said only for a port the agent had taken (a refused or failed one was said already).
    if (sub) void sub.ready.then(() => this.tell({ port: sub.appPort, remotePort, mode: this.settings.mode, released: true }), () => undefined);
  }

  /** The agent link is back after a drop: its subscriptions went with the old link. */
  resubscribe(): void {
    for (const [port, sub] of this.subs) {
      const first = sub.listeners[0];
      if (!first) continue;
      sub.ready = this.subscribe(port, first.appPort, sub.since);
      sub.ready.catch(() => undefined);
    }
  }

  /** The agent's IncomingOpen: connect to the app's listening socket and relay. */
  open(m: MessageOf<'IncomingOpen'>): void {
    const listener = this.subs.get(m.port)?.listeners[0];
    if (!listener) return this.agent.replyError(m, E.ECONNREFUSED, `nothing listens for port ${m.port} here`);
    const host = listener.local.ip === '0.0.0.0' ? '127.0.0.1' : listener.local.ip === '::' ? '::1' : listener.local.ip;
    const flight = this.inFlight.get(listener.local.port) ?? { n: 0, waiters: [] };
    this.inFlight.set(listener.local.port, flight);
    flight.n++;
    const settled = (): void => {
      flight.n--;
      for (const w of flight.waiters.splice(0)) w();
      if (flight.n === 0) this.inFlight.delete(listener.local.port);
    };
    const socket = net.connect({ host, port: listener.local.port, allowHalfOpen: true, noDelay: true });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      settled();
      this.agent.replyError(m, E[err.code as keyof typeof E] ?? E.ECONNREFUSED, `the local process did not take the connection: ${err.message}`);
    });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      const me = key({ ip: socket.localAddress!, port: socket.localPort! });
      this.peers.set(me, { remote: m.remote, local: m.local });
      settled();
      const gone = (conn: number): void => {
        this.conns.delete(conn);
        this.peers.delete(me);
      };
      const relay = new TcpRelay(this.agent, m.conn, socket, gone, m.mode === IncomingMode.mirror);
      if (!this.conns.add(m.conn, 'incoming', 'in', relay)) {
        socket.destroy();
        return this.agent.replyError(m, E.EEXIST, `conn ${m.conn} is already in use`);
      }
      this.agent.reply(m, { type: 'Ok' });
    });
  }

  /** The layer's IncomingPeer: the real client of a connection the app accepted from `peer`. */
  async peer(m: MessageOf<'IncomingPeer'>): Promise<{ remote: Addr; local: Addr }> {
    for (;;) {
      const found = this.peers.get(key(m.peer));
      if (found) return found;
      const flight = this.inFlight.get(m.listener.port);
      if (!flight) throw refusal(E.ENOENT, 'not a connection the intproxy delivered');
      await new Promise<void>((resolve) => flight.waiters.push(resolve));
    }
  }
}
