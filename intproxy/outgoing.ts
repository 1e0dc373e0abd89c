/**
 * Outgoing connections, intproxy side. For each `Connect` from a layer the agent first opens the
 * remote end from the target's network; then the intproxy offers a loopback endpoint the user's own
 * socket connects (TCP) or sends (UDP) to, and relays it to the agent under a fresh conn id.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { E } from '../common/errno.js';
import type { LinkPeer } from '../link/link.js';
import { Proto } from '../protocol/spec.js';
import { TcpRelay, UdpRelay, type Relay } from '../link/relay.js';
import type { Addr, Message, MessageOf } from '../protocol/types.js';

/** How long the layer has to connect its socket to the offered endpoint. */
const ACCEPT_TIMEOUT_MS = 30_000;

/** A loopback host the user's socket of `family` can reach. */
function loopbackFor(family: number): string {
  return family === 6 ? '::1' : '127.0.0.1';
}

type Pending = { frames: Message[] };

export class IntproxyOutgoing {
  private readonly relays = new Map<number, Relay>();
  /** TCP conns whose local socket has not connected yet: agent frames wait here. */
  private readonly pending = new Map<number, Pending>();
  private nextConn = 1;

  constructor(private readonly agent: LinkPeer) {}

  private gone = (conn: number): void => {
    this.relays.delete(conn);
  };

  async connect(m: MessageOf<'Connect'>): Promise<Omit<MessageOf<'Connected'>, 'type' | 'id'>> {
    const conn = this.nextConn++;
    // IPv4-mapped IPv6 remotes (Java's) arrive as IPv4 already: the layer unmaps them.
    const remote = m.remote;
    if (m.proto === Proto.tcp) {
      this.pending.set(conn, { frames: [] });
      try {
        await this.agent.request('TcpConnect', { conn, remote });
      } catch (e) {
        this.pending.delete(conn);
        throw e;
      }
      return { conn, local: await this.offerTcp(conn, m.localFamily) };
    }
    if (m.proto === Proto.udp) {
      await this.agent.request('UdpOpen', { conn, remote });
      return { conn, local: await this.offerUdp(conn, m.localFamily) };
    }
    throw Object.assign(new Error(`unknown protocol ${m.proto}`), { errno: E.EPROTONOSUPPORT });
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

  private async offerTcp(conn: number, family: number): Promise<Addr> {
    const [server, host] = await this.listen(family, (h) =>
      new Promise<net.Server>((resolve, reject) => {
        const s = net.createServer({ allowHalfOpen: true, noDelay: true });
        s.once('error', reject);
        s.listen({ host: h, port: 0, backlog: 1 }, () => resolve(s));
      }),
    );
    const timer = setTimeout(() => {
      server.close();
      this.pending.delete(conn);
      this.agent.send({ type: 'Close', id: 0, conn, errno: E.ECONNABORTED });
    }, ACCEPT_TIMEOUT_MS);
    server.once('connection', (socket) => {
      clearTimeout(timer);
      server.close();
      const relay = new TcpRelay(this.agent, conn, socket, this.gone);
      this.relays.set(conn, relay);
      const waiting = this.pending.get(conn)?.frames ?? [];
      this.pending.delete(conn);
      for (const f of waiting) relay.onFrame(f);
    });
    const port = (server.address() as net.AddressInfo).port;
    return { family: host.includes(':') ? 6 : 4, ip: host, port };
  }

  private async offerUdp(conn: number, family: number): Promise<Addr> {
    const [socket, host] = await this.listen(family, (h) =>
      new Promise<dgram.Socket>((resolve, reject) => {
        const s = dgram.createSocket(h.includes(':') ? 'udp6' : 'udp4');
        s.once('error', reject);
        s.bind(0, h, () => {
          s.removeListener('error', reject);
          resolve(s);
        });
      }),
    );
    let peer: { address: string; port: number } | undefined;
    const relay = new UdpRelay(this.agent, conn, socket, () => peer, this.gone, (rinfo) => (peer = rinfo));
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

  /** The layer closed its UDP socket: drop the relay. */
  release(conn: number): void {
    this.relays.get(conn)?.destroy(0);
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
