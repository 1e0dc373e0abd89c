/**
 * What the agents sharing a port (share.ts) say to each other, over abstract unix sockets of the
 * target's network namespace — every agent of that pod runs inside it, so they find each other there
 * with no server of ours and nothing in the cluster:
 *
 *   @podlink/dispatch/<port>   the port's host listens; each other agent keeps one control connection
 *                              to it, with JSON lines:
 *        → {op:"register", id, owner, filter, describe, endpoint, token}   ← {op:"registered", id}
 *                                                                         ← {op:"refused", id, errno, message}
 *        → {op:"unregister", id}
 *      A registration lives as long as its control connection: the host forgets it when it closes.
 *   @podlink/agent/<random>    each registering agent's delivery endpoint. For every connection (or
 *                              request) a filter of that agent's takes, the host connects to it and
 *                              writes one JSON line {token, id, port, remote, local}; the agent opens
 *                              the connection towards its own session and answers "ok" (or "err N"),
 *                              and from then on bytes flow as they are.
 *
 * Isolation: the host sends an agent only what that agent's own filters took, and a registration can
 * only be made, replaced or dropped over its own control connection. The endpoint serves only a host
 * that presents the registration's token (the abstract namespace has no file permissions: any process
 * of the pod could connect to it), so nothing but the host can put requests into a session.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { E, errnoOf } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import type { Addr } from '../../protocol/types.js';
import type { Endpoints, IncomingSession, Opened } from './delivery.js';
import { splice } from './passthrough.js';

const log = logger('agent');

/** The abstract name of a port's dispatcher in the target's network namespace. */
export const dispatchName = (port: number): string => `\0podlink/dispatch/${port}`;

/** Longest line either side accepts (a filter's patterns are the largest part). */
const MAX_LINE = 64 * 1024;

/** Calls `onLine` with each JSON line `s` sends; a line too long or not JSON ends the connection. */
export function jsonLines(s: net.Socket, onLine: (v: Record<string, unknown>) => void): void {
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        return void s.destroy();
      }
      if (v && typeof v === 'object') onLine(v as Record<string, unknown>);
    }
    if (buf.length > MAX_LINE) s.destroy();
  });
}

export const sendLine = (s: net.Socket, v: unknown): void => void s.write(`${JSON.stringify(v)}\n`);

/** Reads one `\n`-ended line of at most `max` bytes, leaving what follows unread (paused). */
function readLine(s: net.Socket, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err?: Error, line?: string): void => {
      s.off('data', onData);
      s.off('close', onClose);
      s.off('end', onClose);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (d: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const nl = buf.indexOf(10);
      if (nl < 0) return void (buf.length > max && done(new Error('line too long')));
      s.pause();
      if (nl + 1 < buf.length) s.unshift(buf.subarray(nl + 1));
      done(undefined, buf.subarray(0, nl).toString('utf8'));
    };
    const onClose = (): void => done(Object.assign(new Error('the peer closed the connection'), { errno: E.ECONNRESET }));
    s.on('data', onData);
    // (A half-open socket may see its peer's end long before its own close.)
    s.once('end', onClose);
    s.once('close', onClose);
  });
}

/** A unix connection whose header is done, as what a dispatcher opens towards a session. */
function opened(s: net.Socket): Opened {
  return {
    relay: (socket) => {
      splice(socket, s);
      s.resume();
    },
    stream: (): Duplex => {
      s.resume();
      return s;
    },
    abandon: () => s.destroy(),
  };
}

/** On the host: a session of another agent, reached through that agent's delivery endpoint. */
export class PeerSession implements IncomingSession {
  constructor(
    /** The registration's id at the other agent. */
    private readonly registration: string,
    readonly describe: string,
    private readonly endpoint: string,
    private readonly token: string,
  ) {}

  get id(): string {
    return `peer:${this.registration}`;
  }

  open(port: number, mode: 'mirror' | 'steal', ends: Endpoints): Promise<Opened> {
    const s = net.connect({ path: this.endpoint, allowHalfOpen: true });
    s.on('error', () => undefined); // readLine sees the close
    s.once('connect', () => sendLine(s, { token: this.token, id: this.registration, port, mode, remote: ends.remote, local: ends.local }));
    return readLine(s, 256).then(
      (answer) => {
        if (answer === 'ok') return opened(s);
        s.destroy();
        const errno = Number(/^err (\d+)$/.exec(answer)?.[1]) || E.ECONNREFUSED;
        throw Object.assign(new Error(`${this.describe} took no connection (errno ${errno})`), { errno });
      },
      (e: Error) => {
        s.destroy();
        throw Object.assign(new Error(`${this.describe} cannot be reached: ${e.message}`), { errno: E.ECONNREFUSED });
      },
    );
  }
}

/** On a registering agent: where the host delivers what its filters took. One per agent process. */
export class DeliveryEndpoint {
  readonly name = `\0podlink/agent/${randomBytes(8).toString('hex')}`;
  private readonly routes = new Map<string, { token: Buffer; session: IncomingSession }>();
  private readonly server = net.createServer({ allowHalfOpen: true }, (s) => this.onConnection(s));

  static async start(): Promise<DeliveryEndpoint> {
    const e = new DeliveryEndpoint();
    await new Promise<void>((resolve, reject) => {
      e.server.once('error', reject);
      e.server.listen(e.name, () => (e.server.off('error', reject), resolve()));
    });
    return e;
  }

  /** A registration's way in: its id, a fresh token for the host, the session it delivers to. */
  route(id: string, session: IncomingSession): string {
    const token = randomBytes(16).toString('hex');
    this.routes.set(id, { token: Buffer.from(token), session });
    return token;
  }

  unroute(id: string): void {
    this.routes.delete(id);
  }

  private onConnection(s: net.Socket): void {
    s.on('error', () => undefined);
    readLine(s, 4096).then(
      async (line) => {
        const h = JSON.parse(line) as { token: string; id: string; port: number; mode: 'steal'; remote: Addr; local: Addr };
        const r = this.routes.get(h.id);
        const token = Buffer.from(String(h.token));
        if (!r || token.length !== r.token.length || !timingSafeEqual(token, r.token)) {
          log.debug('incoming', `a delivery without a valid registration was refused`);
          return void s.destroy();
        }
        let o: Opened;
        try {
          o = await r.session.open(h.port, 'steal', { remote: h.remote, local: h.local });
        } catch (e) {
          return void s.end(`err ${errnoOf(e)}\n`);
        }
        if (s.destroyed) return o.abandon(E.ECONNRESET);
        s.write('ok\n');
        splice(s, o.stream());
        s.resume();
      },
      () => s.destroy(),
    ).catch(() => s.destroy()); // a header that is not JSON
  }

  close(): void {
    this.server.close();
  }
}
