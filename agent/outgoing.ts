/**
 * Outgoing connections opened from the target's network (the agent runs inside its network
 * namespace): TCP streams and UDP flows, each relayed over the link under the intproxy's conn id.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { E, errnoOf } from '../common/errno.js';
import type { Link } from '../link/link.js';
import { TcpRelay, UdpRelay, type Relay } from '../link/relay.js';
import type { Message, MessageOf } from '../protocol/types.js';

/** How long a TCP connect from the target may take before ETIMEDOUT is reported. */
const CONNECT_TIMEOUT_MS = 10_000;

export class AgentOutgoing {
  readonly relays = new Map<number, Relay>();

  constructor(private readonly link: Link) {}

  private gone = (conn: number): void => {
    this.relays.delete(conn);
  };

  tcpConnect(m: MessageOf<'TcpConnect'>): void {
    const socket = net.connect({ host: m.remote.ip, port: m.remote.port, family: m.remote.family, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      this.link.replyError(m, errnoOf(err), `connect to ${m.remote.ip}:${m.remote.port}: ${err.message}`);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      this.relays.set(m.conn, new TcpRelay(this.link, m.conn, socket, this.gone));
      this.link.reply(m, { type: 'Ok' });
    });
  }

  udpOpen(m: MessageOf<'UdpOpen'>): void {
    const socket = dgram.createSocket(m.remote.family === 6 ? 'udp6' : 'udp4');
    socket.once('error', (err) => this.link.replyError(m, errnoOf(err), `udp to ${m.remote.ip}:${m.remote.port}: ${err.message}`));
    socket.connect(m.remote.port, m.remote.ip, () => {
      socket.removeAllListeners('error');
      this.relays.set(m.conn, new UdpRelay(this.link, m.conn, socket, undefined, this.gone));
      this.link.reply(m, { type: 'Ok' });
    });
  }

  /** Connection traffic for a conn id; frames for a conn already gone are dropped. */
  onFrame(m: Message & { conn: number }): void {
    const relay = this.relays.get(m.conn);
    if (relay) relay.onFrame(m);
    else if (m.type === 'Data') this.link.send({ type: 'Close', id: 0, conn: m.conn, errno: E.ECONNRESET });
  }

  closeAll(): void {
    for (const r of [...this.relays.values()]) r.destroy(E.ECONNRESET, true);
  }
}
