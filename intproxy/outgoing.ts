/**
 * Outgoing connections, intproxy side. For each `Connect` from a layer the agent first opens the
 * remote end from the target's network; then the intproxy offers a loopback endpoint the user's own
 * socket connects (TCP) or sends (UDP) to, and relays it to the agent under a fresh conn id.
 *
 * An endpoint belongs to the socket it was made for: `Connect.source` is that socket's bound address,
 * and only a loopback peer with that port is served (a TCP connection from anyone else is reset and the
 * listener keeps waiting; the UDP relay is connected to the source, so the kernel drops other senders).
 * A connection whose endpoint was never used is abandoned at once — its remote side closed — when the
 * layer says `Release`, or when the layer link that asked for it closes first (how the layer cancels a
 * non-blocking connect the app gave up on; a process that dies closes its links too). There is no
 * timer: an endpoint lives exactly as long as someone may still use it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { E } from '../common/errno.js';
import type { Link, LinkPeer } from '../link/link.js';
import { Proto } from '../protocol/spec.js';
import { TcpRelay, UdpRelay, type Relay } from '../link/relay.js';
import type { Addr, Message, MessageOf } from '../protocol/types.js';

/** A loopback host the user's socket of `family` can reach. */
function loopbackFor(family: number): string {
  return family === 6 ? '::1' : '127.0.0.1';
}

function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || ip === '::1';
}

/** A TCP conn whose endpoint the layer has not connected to yet. */
interface Pending {
  frames: Message[];
  /** Closes the listener and tells the agent; undefined while the agent's connect is still running. */
  abandon?: () => void;
  abandoned: boolean;
  /** Stops watching the owner link (the endpoint was used, or the connect failed). */
  detach: () => void;
}

export class IntproxyOutgoing {
  private readonly relays = new Map<number, Relay>();
  /** TCP conns whose local socket has not connected yet: agent frames wait here. */
  private readonly pending = new Map<number, Pending>();
  private nextConn = 1;

  constructor(private readonly agent: LinkPeer) {}

  private gone = (conn: number): void => {
    this.relays.delete(conn);
  };

  /** `owner` is the layer link the request came on: its closing abandons an endpoint not yet used. */
  async connect(m: MessageOf<'Connect'>, owner?: Link): Promise<Omit<MessageOf<'Connected'>, 'type' | 'id'>> {
    const conn = this.nextConn++;
    // IPv4-mapped IPv6 remotes (Java's) arrive as IPv4 already: the layer unmaps them.
    const remote = m.remote;
    if (m.proto === Proto.tcp) {
      // After the I/O events of this loop turn: a layer that connected and then hung up has its
      // connection already queued on the listener, and it is accepted in the same poll phase.
      const onClose = (): void => void setImmediate(() => this.abandon(conn));
      owner?.once('close', onClose);
      const p: Pending = { frames: [], abandoned: false, detach: () => owner?.off('close', onClose) };
      this.pending.set(conn, p);
      try {
        await this.agent.request('TcpConnect', { conn, remote });
      } catch (e) {
        this.pending.delete(conn);
        p.detach();
        throw e;
      }
      if (p.abandoned) {
        p.detach();
        // The layer went away while the target connected: nobody will use it.
        this.agent.send({ type: 'Close', id: 0, conn, errno: E.ECONNABORTED });
        throw Object.assign(new Error('connect abandoned by the layer'), { errno: E.ECONNABORTED });
      }
      return { conn, local: await this.offerTcp(conn, m.localFamily, m.source, p) };
    }
    if (m.proto === Proto.udp) {
      await this.agent.request('UdpOpen', { conn, remote });
      return { conn, local: await this.offerUdp(conn, m.localFamily, m.source) };
    }
    throw Object.assign(new Error(`unknown protocol ${m.proto}`), { errno: E.EPROTONOSUPPORT });
  }

  /** The endpoint of a TCP conn will not be used (Release, or its layer link closed). */
  private abandon(conn: number): void {
    const p = this.pending.get(conn);
    if (!p || p.abandoned) return;
    p.abandoned = true;
    if (p.abandon) p.abandon();
    else this.agent.send({ type: 'Close', id: 0, conn, errno: E.ECONNABORTED }); // the agent stops connecting
  }

  private async listen<T extends net.Server | dgram.Socket>(family: number, bind: (host: string) => Promise<T>): Promise<[T, string]> {
    const host = loopbackFor(family);
    try {
      return [await bind(host), host];
    } catch (e) {
      // No ::1 in this network namespace: an IPv6 socket still reaches ::ffff:127.0.0.1.
      if (family !== 6) throw e;
      return [await bind('127.0.0.1'), '127.0.0.1'];
    }
  }

  private async offerTcp(conn: number, family: number, source: Addr, p: Pending): Promise<Addr> {
    const [server, host] = await this.listen(family, (h) =>
      new Promise<net.Server>((resolve, reject) => {
        const s = net.createServer({ allowHalfOpen: true, noDelay: true });
        s.once('error', reject);
        s.listen({ host: h, port: 0, backlog: 8 }, () => resolve(s));
      }),
    );
    const done = (): void => {
      server.close();
      this.pending.delete(conn);
      p.detach();
    };
    p.abandon = (): void => {
      done();
      this.agent.send({ type: 'Close', id: 0, conn, errno: E.ECONNABORTED });
    };
    server.on('connection', (socket) => {
      if (socket.remotePort !== source.port || !isLoopback(socket.remoteAddress)) {
        socket.resetAndDestroy(); // not the socket this endpoint was made for
        return;
      }
      done();
      const relay = new TcpRelay(this.agent, conn, socket, this.gone);
      this.relays.set(conn, relay);
      for (const f of p.frames) relay.onFrame(f);
    });
    const port = (server.address() as net.AddressInfo).port;
    return { family: host.includes(':') ? 6 : 4, ip: host, port };
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
    const relay = new UdpRelay(this.agent, conn, socket, undefined, this.gone);
    this.relays.set(conn, relay);
    return { family: host.includes(':') ? 6 : 4, ip: host, port: socket.address().port };
  }

  /** Connection traffic from the agent. */
  onAgentFrame(m: Message & { conn: number }): void {
    const relay = this.relays.get(m.conn);
    if (relay) return relay.onFrame(m);
    const p = this.pending.get(m.conn);
    if (p) p.frames.push(m);
  }

  /** The layer will not use `conn`: a UDP relay whose socket closed, or a TCP endpoint never connected. */
  release(conn: number): void {
    const relay = this.relays.get(conn);
    if (relay instanceof UdpRelay) relay.destroy(0);
    else if (!relay) this.abandon(conn);
  }

  /** The agent (or the link to it) is gone: every user socket relayed through it gets a reset. Returns how many. */
  closeAll(): number {
    const n = this.relays.size + this.pending.size;
    for (const r of [...this.relays.values()]) r.destroy(E.ECONNRESET, true);
    this.pending.clear();
    return n;
  }

  get size(): number {
    return this.relays.size;
  }
}
