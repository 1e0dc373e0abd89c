/**
 * Filtered steal over HTTP/1.x, per request: Node's own HTTP server parses what the client sends (one
 * server per port, fed each redirected connection), and each request goes to the first session whose
 * filter takes it or, unmatched, to the target's original app — so a matched and an unmatched request
 * may alternate on one keep-alive connection. Each side gets one connection per client connection
 * (an http.Agent of one socket each), so keep-alive stays keep-alive on both.
 *
 * What is forwarded is the client's own: the request line's target, every header line in the client's
 * order and case (`rawHeaders`), the body, trailers; and back, the answer's status line, raw headers,
 * body and trailers. Node adds no Date, Host or Keep-Alive of its own; it may add
 * `Connection: keep-alive` where the sender left HTTP/1.1's default implicit, and a chunked body's
 * chunk sizes are its own.
 *
 * Upgrades (WebSocket, h2c, CONNECT) go wholly to the side that took the upgrade request: the request
 * is written out again as it came, and from then on the bytes are relayed as they are.
 */
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Endpoints, IncomingSession } from './delivery.js';
import { headerPairs, type RequestView } from './filter.js';
import { connectOriginal, passThrough, splice } from './passthrough.js';

/** What a port's dispatcher offers the protocol handlers. */
export interface Router {
  readonly port: number;
  /** The first session whose filter takes the request; undefined: the original app. */
  choose(view: RequestView): IncomingSession | undefined;
}

/** One client connection's ways out: to the original app, and to each session that took a request. */
class ConnState {
  readonly original: http.Agent;
  private readonly local = new Map<string, { agent: http.Agent; next?: Duplex }>();

  constructor(
    readonly ends: Endpoints,
    private readonly router: Router,
  ) {
    this.original = oneSocketAgent(() => connectOriginal(ends.local));
  }

  /**
   * The session's way, once a connection to the local process is open (or was opened before and is
   * still there). Rejects when none can be opened: the caller gives the request to the original app.
   */
  async toSession(session: IncomingSession): Promise<http.Agent> {
    let l = this.local.get(session.id);
    if (!l) {
      const entry: { agent: http.Agent; next?: Duplex } = {
        agent: oneSocketAgent((cb) => {
          const ready = entry.next;
          entry.next = undefined;
          if (ready) return ready;
          // The earlier connection went away between requests: open another.
          session.open(this.router.port, 'steal', this.ends).then((o) => cb(null, o.stream()), (e: Error) => cb(e));
          return undefined;
        }),
      };
      this.local.set(session.id, (l = entry));
    }
    if (!hasSocket(l.agent) && !l.next) l.next = (await session.open(this.router.port, 'steal', this.ends)).stream();
    return l.agent;
  }

  close(): void {
    this.original.destroy();
    for (const l of this.local.values()) {
      l.agent.destroy();
      l.next?.destroy();
    }
  }
}

function oneSocketAgent(create: (cb: (err: Error | null, s?: Duplex) => void) => Duplex | undefined): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, cb: (err: Error | null, s?: Duplex) => void) => create(cb);
  return agent;
}

function hasSocket(agent: http.Agent): boolean {
  const busy = Object.values(agent.sockets).some((l) => l && l.length > 0);
  const free = Object.values(agent.freeSockets).some((l) => l && l.length > 0);
  return busy || free;
}

/** The request head as the client sent it (request line, raw header lines). */
export function rawRequestHead(req: http.IncomingMessage): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (const [n, v] of headerPairs(req.rawHeaders)) lines.push(`${n}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export function viewOf(req: http.IncomingMessage): RequestView {
  return { method: req.method ?? '', target: req.url ?? '', headers: headerPairs(req.rawHeaders) };
}

/** Forwards one request through `agent` and its answer back to `res`. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, agent: http.Agent): void {
  const up = http.request({ agent, host: 'podlink', method: req.method, path: req.url, headers: req.rawHeaders, setHost: false });
  up.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
    answer.pipe(res, { end: false });
    answer.on('end', () => {
      if (answer.rawTrailers.length) res.addTrailers(headerPairs(answer.rawTrailers));
      res.end();
    });
    answer.on('error', () => res.destroy());
  });
  up.on('error', () => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' });
    res.end('podlink: the app that took this request failed before answering\n');
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/** The HTTP/1 server of one port's dispatcher. */
export class Http1Dispatch {
  private readonly server: http.Server;
  private readonly states = new WeakMap<object, ConnState>();

  constructor(private readonly router: Router) {
    // No timeouts of our own: the client and the apps keep theirs.
    this.server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 0, noDelay: true });
    this.server.headersTimeout = 0;
    this.server.on('request', (req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as net.Socket, head));
    this.server.on('connect', (req, socket, head) => this.onUpgrade(req, socket as net.Socket, head));
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  /** A client connection whose first bytes (`head`, not consumed) look like HTTP/1. */
  serve(socket: net.Socket, ends: Endpoints, head: Buffer): void {
    const state = new ConnState(ends, this.router);
    this.states.set(socket, state);
    socket.once('close', () => state.close());
    socket.unshift(head);
    this.server.emit('connection', socket);
    socket.resume();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const state = this.states.get(req.socket)!;
    res.sendDate = false;
    const session = this.router.choose(viewOf(req));
    if (!session) return forward(req, res, state.original);
    state.toSession(session).then(
      (agent) => forward(req, res, agent),
      () => forward(req, res, state.original), // the local side is gone: the pod answers instead
    );
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const state = this.states.get(socket);
    if (!state) return void socket.destroy();
    state.close();
    const raw = Buffer.concat([rawRequestHead(req), head]);
    const session = this.router.choose(viewOf(req));
    if (!session) return passThrough(socket, state.ends.local, raw);
    socket.pause();
    session.open(this.router.port, 'steal', state.ends).then(
      (o) => {
        const s = o.stream();
        s.write(raw);
        splice(socket, s);
        socket.resume();
      },
      () => passThrough(socket, state.ends.local, raw),
    );
  }
}
