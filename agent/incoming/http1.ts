/**
 * Filtered steal over HTTP/1.x, per request, forwarding bytes as they are. llhttp (h1-framing.ts)
 * finds where each request begins and ends and reads its head for the filter; the request's bytes go,
 * unchanged, to the first session whose filter takes it or, unmatched, to the target's original app —
 * so a matched and an unmatched request may alternate on one keep-alive connection. Each client
 * connection has its own ways out (h1-upstream.ts): one connection to the original app and one to
 * each session that took a request, opened on first use and kept while the client's is.
 *
 * Answers are framed by llhttp too, and written back in the order of the requests (HTTP/1.1
 * pipelining): an answer whose turn has not come is held (and its way paused past HOLD_MAX).
 * Nothing is parsed into objects or written again: the client gets the answering app's bytes.
 *
 * Upgrades (WebSocket, CONNECT) go wholly to the side that took the upgrade request: from that
 * request on, both ways are relayed as they are. `Upgrade: h2c` with nothing owed before it and no
 * body is the dispatcher's own (h2c.ts): HTTP/2 from then on, filtered per stream. A request llhttp
 * refuses goes, with the rest of the connection, to the original app, which answers it as it would have.
 *
 * When a session cannot be reached (its app stopped listening, its link is gone) its requests go to
 * the original app instead; when it fails after taking a request, the client gets a 502 if nothing of
 * the answer was sent yet, else its connection is reset (docs/ARCHITECTURE.md, "When the local side fails").
 */
import type net from 'node:net';
import type { Endpoints, IncomingSession } from './delivery.js';
import type { RequestView } from './filter.js';
import { Framer, type Head, type Piece } from './h1-framing.js';
import { exchange, HOLD_MAX, Upstream, type Exchange, type UpstreamOwner } from './h1-upstream.js';
import { afterSwitch, stream1, SWITCHING_TO_H2C } from './h2c.js';
import { connectOriginal } from './passthrough.js';
import { TurnWrites } from './turn-writes.js';
import { io, trace } from '../../link/trace.js';

/** Client connections, numbered for the per-hop trace (link/trace.ts: hop `h1`). */
let connections = 0;

/** What a port's dispatcher offers the protocol handlers. */
export interface Router {
  readonly port: number;
  /** The first session whose filter takes the request; undefined: the original app. */
  choose(view: RequestView): IncomingSession | undefined;
  /** Serves a connection as HTTP/2 from `head` on (after an h2c upgrade, h2c.ts); absent: upgrades go to one side. */
  h2c?(socket: net.Socket, ends: Endpoints, head: Buffer): void;
}

const BAD_GATEWAY_BODY = 'podlink: the app that took this request failed to answer\n';
const BAD_GATEWAY = Buffer.from(
  `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${BAD_GATEWAY_BODY.length}\r\n\r\n${BAD_GATEWAY_BODY}`,
  'latin1',
);

/** One redirected client connection speaking HTTP/1. */
class ClientConnection implements UpstreamOwner {
  private readonly framer = new Framer('request');
  private readonly pieces: Piece[] = [];
  private readonly ups = new Map<string, Upstream>();
  /** Answers owed to the client, in the order of its requests. */
  private readonly order: Exchange[] = [];
  /** Where the body of the request being received goes. */
  private sending: Upstream | undefined;
  /** After an upgrade (or bytes llhttp refused): where everything the client sends goes. */
  private tunnel: Upstream | undefined;
  /** Sessions this connection could not reach: their requests go to the original app. */
  private readonly unreachableSessions = new Set<string>();
  private clientEnded = false;
  private finished = false;
  /** The ways out this read wrote to (turn-writes.ts: one write each). */
  private readonly touched: Upstream[] = [];
  /** Answers of one read of an app: one write to the client. */
  private readonly out = new TurnWrites(() => this.client, (b) => this.writeClient(b));
  private batching = 0;
  private readonly id = ++connections;

  constructor(
    private readonly client: net.Socket,
    private readonly ends: Endpoints,
    private readonly router: Router,
  ) {
    client.on('data', this.onData);
    client.on('end', this.onEnd);
    client.on('close', this.onClose);
    client.on('drain', this.onDrain);
  }

  private readonly onData = (d: Buffer): void => this.fromClient(d);
  private readonly onEnd = (): void => this.clientEnd();
  private readonly onClose = (): void => this.closeAll();
  private readonly onDrain = (): void => {
    for (const up of this.ups.values()) up.resume('client');
  };

  fromClient(d: Buffer): void {
    if (io.hasSubscribers) trace('req-in', 'h1', this.id, d.length);
    if (this.tunnel) return this.toUpstream(this.tunnel, d, false);
    const pieces = this.pieces;
    pieces.length = 0;
    this.framer.push(d, pieces);
    // What one read brings goes out in one write per way (a head and its body: one segment).
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      switch (p.kind) {
        case 'head': {
          // An h2c upgrade with nothing owed before it: HTTP/2 from here on, filtered per stream.
          const frame = p.head.upgrade && this.router.h2c && !this.order.length ? stream1(p.head) : undefined;
          if (frame) return this.toHttp2(frame, pieces.slice(i + 1));
          const up = this.route(p.head);
          const ex = exchange(p.head.method, up, p.head.upgrade);
          this.order.push(ex);
          up.expect(ex);
          this.sending = up;
          if (p.head.upgrade) this.tunnel = up;
          this.toUpstream(up, p.bytes);
          break;
        }
        case 'body':
          this.toUpstream(this.sending!, p.bytes);
          break;
        case 'end':
          this.sending = undefined;
          break;
        case 'raw':
          this.toUpstream(this.tunnel!, p.bytes);
          break;
        case 'broken': {
          // Half a request went somewhere already: nobody can make sense of the rest.
          if (this.sending) {
            for (const up of this.touched) up.turn.drop();
            this.touched.length = 0;
            return void this.client.resetAndDestroy();
          }
          const up = this.upstream(undefined);
          const ex = exchange('', up, true);
          this.order.push(ex);
          up.expect(ex);
          this.tunnel = up;
          this.toUpstream(up, p.bytes);
          break;
        }
      }
    }
    const touched = this.touched;
    for (let i = 0; i < touched.length; i++) {
      const up = touched[i]!;
      if (!up.turn.flush()) this.waitFor(up);
    }
    touched.length = 0;
    if (io.hasSubscribers) trace('req-out', 'h1', this.id, d.length);
  }

  /** Answers the upgrade and hands the connection to the HTTP/2 side (h2c.ts); `after`: what followed the request. */
  private toHttp2(frame: Buffer, after: Piece[]): void {
    const client = this.client;
    client.off('data', this.onData);
    client.off('end', this.onEnd);
    client.off('close', this.onClose);
    client.off('drain', this.onDrain);
    this.closeAll();
    const rest = Buffer.concat(after.map((p) => ('bytes' in p ? p.bytes : Buffer.alloc(0))));
    client.write(SWITCHING_TO_H2C);
    afterSwitch(client, rest, frame, (head) => this.router.h2c!(client, this.ends, head));
  }

  private route(head: Head): Upstream {
    // A request's head is what a filter looks at (RequestView): no copy of it is made.
    const session = this.router.choose(head);
    return this.upstream(session && !this.unreachableSessions.has(session.id) ? session : undefined);
  }

  private upstream(session: IncomingSession | undefined): Upstream {
    const key = session?.id ?? '';
    let up = this.ups.get(key);
    if (!up) {
      const open = session ? session.open(this.router.port, 'steal', this.ends).then((o) => o.stream()) : connectOriginal(this.ends.local);
      up = new Upstream(key, open, this);
      this.ups.set(key, up);
    }
    return up;
  }

  private toUpstream(up: Upstream, b: Buffer, batched = true): void {
    if (batched) {
      if (up.turn.idle && !this.touched.includes(up)) this.touched.push(up);
      return up.turn.add(b);
    }
    if (!up.write(b)) this.waitFor(up);
  }

  /** The way's buffer is full: the client is not read until it drains. */
  private waitFor(up: Upstream): void {
    this.client.pause();
    up.onDrain(() => this.client.resume());
  }

  private clientEnd(): void {
    this.clientEnded = true;
    // The apps finish what they were asked, then close their side.
    if (this.tunnel) this.tunnel.end();
    else for (const up of this.ups.values()) up.end();
    this.flush();
  }

  // --- answers --------------------------------------------------------------------------------

  batchStart(bytes: number): void {
    if (io.hasSubscribers) trace('ans-in', 'h1', this.id, bytes);
    this.batching++;
  }

  batchEnd(): void {
    if (--this.batching) return;
    this.out.flush();
    if (io.hasSubscribers) trace('ans-out', 'h1', this.id, 0);
  }

  deliver(ex: Exchange, bytes: Buffer): void {
    ex.answered = true;
    if (this.order[0] === ex) return this.toClient(bytes);
    ex.held.push(bytes);
    ex.heldBytes += bytes.length;
    if (ex.heldBytes > HOLD_MAX) ex.up.pause('held');
  }

  completed(): void {
    this.flush();
  }

  unreachable(up: Upstream, unsent: Buffer[], exchanges: Exchange[]): void {
    // Nothing reached the session: its requests go to the original app, in the order they came.
    this.ups.delete(up.key);
    this.unreachableSessions.add(up.key);
    const original = this.upstream(undefined);
    for (const ex of exchanges) {
      ex.up = original;
      original.expect(ex);
    }
    if (this.sending === up) this.sending = original;
    if (this.tunnel === up) this.tunnel = original;
    for (const b of unsent) this.toUpstream(original, b, false);
  }

  lost(up: Upstream, exchanges: Exchange[]): void {
    if (this.ups.get(up.key) === up) this.ups.delete(up.key);
    if (this.sending === up) this.sending = undefined;
    const first = exchanges[0];
    if (!first) return this.flush(); // an idle way closed: the next request opens another
    // The connection ends with the first answer that cannot be given.
    first.last = true;
    first.done = true;
    if (up.key !== '' && !first.answered && !first.tunnel) this.deliver(first, BAD_GATEWAY);
    else if (first.answered) first.reset = true;
    this.flush();
  }

  /** Writes every answer whose turn has come. */
  private flush(): void {
    while (this.order.length && !this.finished) {
      const ex = this.order[0]!;
      if (ex.held.length) {
        for (const b of ex.held.splice(0)) this.toClient(b);
        ex.heldBytes = 0;
        ex.up.resume('held');
      }
      if (!ex.done) return;
      this.order.shift();
      if (ex.last) return this.finish(ex);
      const next = this.order[0];
      if (next) next.up.resume('held');
    }
    if (this.clientEnded && !this.sending && !this.finished) this.finish(undefined);
  }

  private toClient(b: Buffer): void {
    if (this.batching) this.out.add(b);
    else this.writeClient(b);
  }

  private writeClient(b: Buffer): boolean {
    if (this.client.write(b)) return true;
    for (const up of this.ups.values()) up.pause('client');
    return false;
  }

  /** No more answers: end (or reset) the client's connection and every way out but a tunnel's. */
  private finish(last: Exchange | undefined): void {
    this.finished = true;
    if (last?.reset) {
      this.out.drop();
      return void this.client.resetAndDestroy();
    }
    this.out.flush();
    this.client.end();
    for (const up of this.ups.values()) if (up !== this.tunnel) up.destroy();
  }

  closeAll(): void {
    this.finished = true;
    this.framer.close();
    for (const up of this.ups.values()) up.destroy();
    this.ups.clear();
  }
}

/** The HTTP/1 side of one port's dispatcher. */
export class Http1Dispatch {
  constructor(private readonly router: Router) {}

  /** A client connection whose first bytes (`head`, already read) look like HTTP/1. */
  serve(socket: net.Socket, ends: Endpoints, head: Buffer): void {
    const c = new ClientConnection(socket, ends, this.router);
    c.fromClient(head);
    socket.resume();
  }
}
