/**
 * Outgoing connections opened from the target's network (the agent runs inside its network
 * namespace): TCP streams and UDP flows, each relayed over the link under the intproxy's conn id and
 * registered in the session's connection table (link/conns.ts), which routes their frames.
 *
 * Every request ends as an answer for that request: a port or address Node refuses, a conn id already
 * in use, or a socket that fails synchronously is an Error reply, never an exception that would end
 * the agent (and with it every DNS lookup, connection and file read of the session).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { E, errnoOf } from '../common/errno.js';
import type { ConnTable } from '../link/conns.js';
import type { Link } from '../link/link.js';
import { TcpRelay, UdpRelay } from '../link/relay.js';
import type { MessageOf } from '../protocol/types.js';

/** How long a TCP connect from the target may take before ETIMEDOUT is reported. */
const CONNECT_TIMEOUT_MS = 10_000;

function failure(errno: number, message: string): Error & { errno: number } {
  return Object.assign(new Error(message), { errno });
}

export class AgentOutgoing {
  constructor(
    private readonly link: Link,
    private readonly conns: ConnTable,
  ) {}

  private gone = (conn: number): void => {
    this.conns.delete(conn);
  };

  private inUse(m: MessageOf<'TcpConnect'> | MessageOf<'UdpOpen'>): boolean {
    if (!this.conns.has(m.conn)) return false;
    this.link.replyError(m, E.EEXIST, `conn ${m.conn} is already in use`);
    return true;
  }

  tcpConnect(m: MessageOf<'TcpConnect'>): void {
    if (this.inUse(m)) return;
    const where = `${m.remote.ip}:${m.remote.port}`;
    // Nothing listens on port 0: the kernel's SYN would be answered with a reset. (Node throws.)
    if (m.remote.port === 0) return this.link.replyError(m, E.ECONNREFUSED, `connect to ${where}: connection refused`);
    let socket: net.Socket;
    try {
      socket = net.connect({ host: m.remote.ip, port: m.remote.port, family: m.remote.family, allowHalfOpen: true, noDelay: true });
    } catch (err) {
      return this.link.replyError(m, errnoOf(err), `connect to ${where}: ${(err as Error).message}`);
    }
    // While connecting, a Close from the intproxy abandons the connect (its socket went away first);
    // anything else for this id waits for nothing and is dropped.
    this.conns.add(m.conn, 'outgoing', 'in', {
      onFrame: (f) => {
        if (f.type === 'Close') socket.destroy(failure(E.ECONNABORTED, 'connect abandoned'));
      },
      destroy: () => socket.destroy(),
    });
    const timer = setTimeout(() => socket.destroy(failure(E.ETIMEDOUT, 'connect timed out')), CONNECT_TIMEOUT_MS);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      this.conns.delete(m.conn);
      this.link.replyError(m, errnoOf(err), `connect to ${where}: ${err.message}`);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      this.conns.setHandler(m.conn, new TcpRelay(this.link, m.conn, socket, this.gone));
      this.link.reply(m, { type: 'Ok' });
    });
  }

  udpOpen(m: MessageOf<'UdpOpen'>): void {
    if (this.inUse(m)) return;
    const where = `${m.remote.ip}:${m.remote.port}`;
    let socket: dgram.Socket;
    try {
      socket = dgram.createSocket(m.remote.family === 6 ? 'udp6' : 'udp4');
    } catch (err) {
      return this.link.replyError(m, errnoOf(err), `udp to ${where}: ${(err as Error).message}`);
    }
    const fail = (err: Error): void => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      try {
        socket.close();
      } catch {
        /* never bound */
      }
      this.link.replyError(m, errnoOf(err), `udp to ${where}: ${err.message}`);
    };
    socket.once('error', fail);
    const ready = (peer: (() => undefined) | undefined) => (): void => {
      socket.removeListener('error', fail);
      this.conns.add(m.conn, 'outgoing', 'in', new UdpRelay(this.link, m.conn, socket, peer, this.gone));
      this.link.reply(m, { type: 'Ok' });
    };
    try {
      // A UDP socket may be connected to port 0 (gRPC's address sorting does it to learn a source
      // address); nothing can be sent there, so such a flow drops every datagram, as the kernel's
      // send would fail.
      if (m.remote.port === 0) socket.bind(0, ready(() => undefined));
      else socket.connect(m.remote.port, m.remote.ip, ready(undefined));
    } catch (err) {
      fail(err as Error);
    }
  }
}
