/**
 * Filtered steal over HTTP/2 with prior knowledge (h2c; gRPC's cleartext form), per stream: Node's own
 * HTTP/2 server takes the client's connection, and each stream goes to the first session whose filter
 * takes it or to the original app, each side over one HTTP/2 connection per client connection. Headers
 * (pseudo-headers included), data, trailers and stream resets are forwarded as they come, so gRPC
 * unary and streaming calls work either way, and a stream that one side holds up never holds up
 * another. An HTTP/1.1 `Upgrade: h2c` ends here too (h2c.ts), its upgrade request as stream 1.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { Endpoints, IncomingSession } from './delivery.js';
import type { RequestView } from './filter.js';
import type { Router } from './http1.js';
import { connectOriginal } from './passthrough.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** The HTTP/2 connection preface every prior-knowledge client starts with. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * A socket whose first bytes were already read, as a Duplex that gives them again: Node's HTTP/2
 * reads a real socket's handle directly and would never see bytes read before — `head`, or what is
 * still buffered on the socket (a delivery endpoint's connection whose `ok` line came in one read
 * with the local app's SETTINGS: the line reader put the rest back, where HTTP/2 would not look).
 */
function replay(socket: net.Socket, head?: Buffer): Duplex {
  const d = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _enc, done) => void socket.write(chunk, done),
    final: (done) => (socket.end(), done()),
    destroy: (err, done) => (socket.destroy(err ?? undefined), done(err)),
  });
  if (head) d.push(head);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('error', (e) => d.destroy(e));
  socket.on('close', () => d.destroy());
  return d;
}

class ConnState {
  private original: http2.ClientHttp2Session | undefined;
  private readonly local = new Map<string, Promise<http2.ClientHttp2Session>>();

  constructor(
    readonly ends: Endpoints,
    private readonly router: Router,
  ) {}

  toOriginal(): http2.ClientHttp2Session {
    if (!this.original || this.original.closed || this.original.destroyed) {
      const local = this.ends.local;
      const host = local.family === 6 ? `[${local.ip}]` : local.ip;
      this.original = http2.connect(`http://${host}:${local.port}`, { createConnection: () => connectOriginal(local) });
      this.original.on('error', () => undefined);
    }
    return this.original;
  }

  /** The session's connection; rejects when the local side cannot be reached (the caller falls back). */
  toSession(session: IncomingSession): Promise<http2.ClientHttp2Session> {
    let p = this.local.get(session.id);
    if (!p) {
      p = session.open(this.router.port, 'steal', this.ends).then((o) => {
        const s = o.stream();
        // Another agent's delivery endpoint is a unix socket: read through its stream, never its handle.
        const transport = s instanceof net.Socket ? replay(s) : s;
        const c = http2.connect('http://podlink.local', { createConnection: () => transport });
        c.on('error', () => undefined);
        c.on('close', () => this.local.delete(session.id));
        return c;
      });
      p.catch(() => this.local.delete(session.id));
      this.local.set(session.id, p);
    }
    return p;
  }

  close(): void {
    this.original?.destroy();
    for (const p of this.local.values()) p.then((c) => c.destroy(), () => undefined);
  }
}

function viewOf(headers: http2.IncomingHttpHeaders, raw: string[]): RequestView {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(':')) pairs.push([raw[i]!, raw[i + 1]!]);
  return { method: String(headers[':method'] ?? ''), target: String(headers[':path'] ?? ''), headers: pairs };
}

/** Forwards one stream to `to` and everything back, trailers and resets included. */
function forward(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, to: http2.ClientHttp2Session): void {
  let out: http2.ClientHttp2Stream;
  try {
    out = to.request(headers);
  } catch {
    return void stream.close(NGHTTP2_REFUSED_STREAM);
  }
  let trailers: http2.IncomingHttpHeaders | undefined;
  out.on('response', (h, flags) => {
    if (stream.destroyed) return;
    // A trailers-only answer (a gRPC error) stays one HEADERS frame.
    if (flags & NGHTTP2_FLAG_END_STREAM) return void stream.respond(h, { endStream: true });
    stream.respond(h, { waitForTrailers: true });
    out.pipe(stream);
  });
  out.on('trailers', (t) => (trailers = t));
  // No trailers: an empty DATA frame ends the stream (a RST_STREAM, even NO_ERROR, is not an end
  // every client takes: curl drops the answer).
  stream.on('wantTrailers', () => stream.sendTrailers(trailers ?? {}));
  out.on('close', () => {
    if (!stream.destroyed && !stream.headersSent) stream.close(out.rstCode && out.rstCode !== NGHTTP2_NO_ERROR ? out.rstCode : NGHTTP2_INTERNAL_ERROR);
    else if (out.rstCode && out.rstCode !== NGHTTP2_NO_ERROR && !stream.closed) stream.close(out.rstCode);
  });
  out.on('error', () => undefined);
  stream.on('error', () => undefined);
  stream.on('close', () => {
    if (!out.closed) out.close(stream.rstCode && stream.rstCode !== NGHTTP2_NO_ERROR ? stream.rstCode : NGHTTP2_NO_ERROR);
  });
  stream.pipe(out);
}

/** The HTTP/2 server of one port's dispatcher. */
export class Http2Dispatch {
  private readonly server = http2.createServer();
  private readonly states = new WeakMap<http2.Http2Session, ConnState>();
  /** The state of the connection being handed to the server ('session' is emitted synchronously). */
  private handing: ConnState | undefined;

  constructor(private readonly router: Router) {
    this.server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) =>
      this.onStream(stream, headers, raw),
    );
    this.server.on('sessionError', () => undefined);
    this.server.on('session', (session) => {
      session.on('error', () => undefined);
      if (this.handing) this.states.set(session, this.handing);
    });
  }

  /** A client connection that started with the HTTP/2 preface (`head`, already read from it). */
  serve(socket: net.Socket, ends: Endpoints, head: Buffer): void {
    const state = new ConnState(ends, this.router);
    socket.once('close', () => state.close());
    this.handing = state;
    try {
      this.server.emit('connection', replay(socket, head));
    } finally {
      this.handing = undefined;
    }
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): void {
    const state = this.states.get(stream.session!);
    if (!state) return void stream.close(NGHTTP2_REFUSED_STREAM);
    const session = this.router.choose(viewOf(headers, raw));
    if (!session) return forward(stream, headers, state.toOriginal());
    stream.pause();
    state.toSession(session).then(
      (c) => forward(stream, headers, c),
      () => forward(stream, headers, state.toOriginal()), // the local side is gone: the pod answers instead
    );
  }
}
