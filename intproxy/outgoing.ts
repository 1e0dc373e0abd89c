/**
 * Outgoing connections, intproxy side. For each `Connect` from a layer the agent first opens the
 * remote end from the target's network; then the intproxy offers a loopback endpoint the user's own
 * socket connects (TCP) or sends (UDP) to, and relays it to the agent under a fresh conn id.
 *
 * An endpoint belongs to the socket it was made for: `Connect.source` is that socket's bound address,
 * and only a loopback peer with that port is served (a TCP connection from anyone else is reset and the
 * endpoint keeps waiting; the UDP relay is connected to the source, so the kernel drops other senders).
 * TCP endpoints share one listener per loopback address, which tells connections apart by their source
 * port (a socket, bind, listen and close fewer per connection, and one ephemeral port instead of two);
 * a source port already waited for on it gets a listener of its own.
 * A connection whose endpoint was never used is abandoned at once — its remote side closed — when the
 * layer says `Release`, when the layer link that asked for it closes before the layer has the answer
 * (how the layer cancels a non-blocking connect the app gave up on), or when that link closes after
 * it and its process is gone. A link closing after the layer has its answer, with its process alive,
 * cancels nothing: the layer hangs up as soon as its socket is connected to the endpoint, which can be
 * before the intproxy has accepted that connection (the handshake's last ACK still on its way through
 * the kernel); abandoning then reset connections under load (`ab -c20`). Whether the layer has its
 * answer is what the link's close says, not the order the intproxy sees things in: the layer closes
 * without reading, so an answer and a hang-up cross on the socket (under load the intproxy writes the
 * answer before it reads the end already sent). The layer has it only when the answer was written and
 * the link then ended cleanly; a close with the answer unread resets the link, and a layer that hung up
 * before the answer makes its write fail (`StreamEnded` in link/link.ts). There is no timer: an
 * endpoint lives exactly as long as someone may still use it.
 *
 * Conn ids come from the intproxy's connection table (link/conns.ts), which routes the agent's frames
 * to each connection: to its relay, or into the buffer of a connection whose endpoint is not used yet.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { E } from '../common/errno.js';
import type { ConnFrame, ConnTable } from '../link/conns.js';
import { StreamEnded, type Link, type LinkPeer } from '../link/link.js';
import { Proto } from '../protocol/spec.js';
import { TcpRelay, UdpRelay } from '../link/relay.js';
import type { Addr, MessageOf } from '../protocol/types.js';

/** A loopback host the user's socket of `family` can reach. */
function loopbackFor(family: number): string {
  return family === 6 ? '::1' : '127.0.0.1';
}

/** Is process `pid` still running (not gone, not a zombie)? */
function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}

/** A listener of its own for one TCP endpoint (a fresh port: no 4-tuple of an earlier connection). */
function listenOnce(host: string): Promise<net.Server> {
  return new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer({ allowHalfOpen: true, noDelay: true });
    s.once('error', reject);
    s.listen({ host, port: 0, backlog: 8 }, () => resolve(s));
  });
}

/**
 * The TCP endpoints of one loopback address: one listener, each accepted connection handed to the
 * endpoint waiting for its source port, any other reset. `serve` returns false when that port is
 * already waited for (the caller then gives the conn a listener of its own).
 */
class SharedEndpoint {
  private readonly waiting = new Map<number, (socket: net.Socket) => void>();

  /** (Asked once: server.address() is a getsockname each time.) */
  readonly port: number;

  private constructor(
    readonly server: net.Server,
    readonly host: string,
  ) {
    this.port = (server.address() as net.AddressInfo).port;
    server.on('connection', (socket) => {
      const take = isLoopback(socket.remoteAddress) ? this.waiting.get(socket.remotePort!) : undefined;
      if (!take) return void socket.resetAndDestroy(); // not a socket any endpoint was made for
      this.waiting.delete(socket.remotePort!);
      take(socket);
    });
  }

  static async open(host: string): Promise<SharedEndpoint> {
    const server = await new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer({ allowHalfOpen: true, noDelay: true });
      s.once('error', reject);
      s.listen({ host, port: 0, backlog: 511 }, () => resolve(s));
    });
    // A failed accept (EMFILE under a burst) costs that one connection, never the intproxy.
    server.on('error', () => undefined);
    server.unref();
    return new SharedEndpoint(server, host);
  }

  serve(sourcePort: number, take: (socket: net.Socket) => void): boolean {
    if (this.waiting.has(sourcePort)) return false;
    this.waiting.set(sourcePort, take);
    return true;
  }

  forget(sourcePort: number, take: (socket: net.Socket) => void): void {
    if (this.waiting.get(sourcePort) === take) this.waiting.delete(sourcePort);
  }

  close(): void {
    this.server.close();
  }
}

/** A TCP conn whose endpoint the layer has not connected to yet. */
interface Pending {
  frames: ConnFrame[];
  /** The agent has the target connection open (its TcpConnect answered): abandoning it ends it here too. */
  open: boolean;
  abandoned: boolean;
  /** Connected is being written to the layer: its link closing now abandons only if it did not get it. */
  answered: boolean;
  /** Stops waiting for the layer's socket at the endpoint (once offered). */
  stopWaiting: () => void;
  /** Stops watching the owner link. */
  detach: () => void;
}

function abandoned(): Error {
  return Object.assign(new Error('connect abandoned by the layer'), { errno: E.ECONNABORTED });
}

export class IntproxyOutgoing {
  /** TCP conns whose local socket has not connected yet: agent frames wait in them. */
  private readonly pending = new Map<number, Pending>();
  /** The shared TCP endpoint of each loopback host, opened on first use. */
  private readonly endpoints = new Map<string, Promise<SharedEndpoint>>();

  constructor(
    private readonly agent: LinkPeer,
    private readonly conns: ConnTable,
  ) {}

  private gone = (conn: number): void => {
    this.conns.delete(conn);
  };

  /** `conn` no longer waits for its socket: the socket came (a relay takes over), or it will not. */
  private settle(conn: number, p: Pending): void {
    p.stopWaiting();
    this.pending.delete(conn);
    p.detach();
  }

  /** `conn` will not be used and is gone here (the agent is told by the caller, or knows). */
  private drop(conn: number, p: Pending): void {
    this.settle(conn, p);
    this.conns.delete(conn);
  }

  /**
   * `owner` is the layer link the request came on, `ownerPid` its process: the link closing abandons
   * an endpoint not yet used (see the top of this file).
   */
  async connect(m: MessageOf<'Connect'>, owner?: Link, ownerPid?: number): Promise<Omit<MessageOf<'Connected'>, 'type' | 'id'>> {
    const conn = this.conns.allocate();
    // IPv4-mapped IPv6 remotes (Java's) arrive as IPv4 already: the layer unmaps them.
    const remote = m.remote;
    if (m.proto === Proto.tcp) {
      // A link closed before its request is served gets no answer: nothing is opened for it.
      if (owner?.closed) throw abandoned();
      const onClose = (reason?: Error): void => {
        // Closed before the answer was written, or with it unread (ECONNRESET), or before a write
        // that then failed (EPIPE): the layer never had the endpoint.
        if (!p.answered || !(reason instanceof StreamEnded)) return this.abandon(conn);
        // The layer has it. After the I/O events of this loop turn: a process that connected and then
        // exited has its connection already queued on the listener, accepted in this poll phase.
        setImmediate(() => {
          if (!processAlive(ownerPid)) this.abandon(conn);
        });
      };
      const p: Pending = { frames: [], open: false, abandoned: false, answered: false, stopWaiting: () => undefined, detach: () => owner?.off('close', onClose) };
      owner?.once('close', onClose);
      this.pending.set(conn, p);
      // Agent frames wait until the socket comes; the link to the agent going away forgets the conn.
      this.conns.add(conn, 'outgoing', 'out', { onFrame: (f) => void p.frames.push(f), destroy: () => this.settle(conn, p) });
      // The shared endpoint is opened (once) while the target connects, not after.
      const endpoint = this.listen(m.localFamily, (host) => this.shared(host));
      endpoint.catch(() => undefined);
      try {
        await this.agent.request('TcpConnect', { conn, remote });
      } catch (e) {
        this.drop(conn, p);
        throw e;
      }
      if (p.abandoned) {
        this.drop(conn, p);
        // (Again: a Close sent while the link to the agent was being re-established never got there.)
        this.agent.send({ type: 'Close', id: 0, conn, errno: E.ECONNABORTED });
        throw abandoned();
      }
      p.open = true;
      let local: Addr;
      try {
        const [shared] = await endpoint;
        if (p.abandoned) throw abandoned();
        local = await this.offerTcp(conn, shared, m.source, p);
      } catch (e) {
        this.abandon(conn);
        throw e;
      }
      if (p.abandoned) throw abandoned();
      p.answered = true;
      return { conn, local };
    }
    if (m.proto === Proto.udp) {
      // Reserved while the agent opens it: its id must not be handed out twice.
      this.conns.add(conn, 'outgoing', 'out', { onFrame: () => undefined, destroy: () => undefined });
      try {
        await this.agent.request('UdpOpen', { conn, remote });
        return { conn, local: await this.offerUdp(conn, m.localFamily, m.source) };
      } catch (e) {
        if (!(this.conns.get(conn)?.handler instanceof UdpRelay)) this.conns.delete(conn);
        throw e;
      }
    }
    throw Object.assign(new Error(`unknown protocol ${m.proto}`), { errno: E.EPROTONOSUPPORT });
  }

  /** The endpoint of a TCP conn will not be used (Release, or its layer link closed). */
  private abandon(conn: number): void {
    const p = this.pending.get(conn);
    if (!p || p.abandoned) return;
    p.abandoned = true;
    // The agent stops connecting, or closes the target connection (a conn's frames keep their order).
    this.agent.send({ type: 'Close', id: 0, conn, errno: E.ECONNABORTED });
    // (While the agent connects, connect() drops the conn with its answer.)
    if (p.open) this.drop(conn, p);
  }

  private async listen<T>(family: number, bind: (host: string) => Promise<T>): Promise<[T, string]> {
    const host = loopbackFor(family);
    try {
      return [await bind(host), host];
    } catch (e) {
      // No ::1 in this network namespace: an IPv6 socket still reaches ::ffff:127.0.0.1.
      if (family !== 6) throw e;
      return [await bind('127.0.0.1'), '127.0.0.1'];
    }
  }

  /** The shared endpoint of `host`; a failed open is tried afresh next time. */
  private shared(host: string): Promise<SharedEndpoint> {
    let e = this.endpoints.get(host);
    if (!e) {
      e = SharedEndpoint.open(host);
      this.endpoints.set(host, e);
      e.catch(() => this.endpoints.delete(host));
    }
    return e;
  }

  private async offerTcp(conn: number, shared: SharedEndpoint, source: Addr, p: Pending): Promise<Addr> {
    const take = (socket: net.Socket): void => {
      this.settle(conn, p);
      const relay = new TcpRelay(this.agent, conn, socket, this.gone);
      this.conns.setHandler(conn, relay);
      for (const f of p.frames) relay.onFrame(f);
    };
    p.stopWaiting = (): void => shared.forget(source.port, take);
    if (shared.serve(source.port, take)) return { family: shared.host.includes(':') ? 6 : 4, ip: shared.host, port: shared.port };
    // That source port is already waited for on the shared listener: a listener of this conn's own.
    const own = await listenOnce(shared.host);
    p.stopWaiting = (): void => void own.close();
    if (this.pending.get(conn) !== p) own.close(); // abandoned, or the agent link went away, meanwhile
    own.on('connection', (socket) => {
      if (socket.remotePort !== source.port || !isLoopback(socket.remoteAddress)) return void socket.resetAndDestroy();
      take(socket);
    });
    return { family: shared.host.includes(':') ? 6 : 4, ip: shared.host, port: (own.address() as net.AddressInfo).port };
  }

  private async offerUdp(conn: number, family: number, source: Addr): Promise<Addr> {
    const [socket, host] = await this.listen(family, (h) =>
      new Promise<dgram.Socket>((resolve, reject) => {
        const s = dgram.createSocket(h.includes(':') ? 'udp6' : 'udp4');
        s.once('error', reject);
        s.bind(0, h, () => {
          // Connected to the user's socket: the kernel delivers only its datagrams, and answers go to it.
          s.connect(source.port, h, () => {
            s.removeListener('error', reject);
            resolve(s);
          });
        });
      }),
    );
    this.conns.setHandler(conn, new UdpRelay(this.agent, conn, socket, undefined, this.gone));
    return { family: host.includes(':') ? 6 : 4, ip: host, port: socket.address().port };
  }

  /** Closes the shared endpoints (the session ends). */
  close(): void {
    for (const e of this.endpoints.values()) void e.then((x) => x.close(), () => undefined);
  }

  /** The layer will not use `conn`: a UDP relay whose socket closed, or a TCP endpoint never connected. */
  release(conn: number): void {
    const e = this.conns.get(conn);
    if (e?.owner !== 'outgoing') return;
    if (e.handler instanceof UdpRelay) e.handler.destroy(0);
    else if (!(e.handler instanceof TcpRelay)) this.abandon(conn);
  }
}
