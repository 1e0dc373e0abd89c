/**
 * The intproxy's connection to its agent, over whichever transport: a Link that can be replaced.
 *
 *   start()    open the transport and say Hello (with the session's token), retrying the open until
 *              the start-up deadline: a pod's agent listens a moment after its container runs.
 *   request()  like Link.request; while the link is being re-established it waits, and a request the
 *              drop interrupted is sent again when it is safe to (reads and lookups, never a connect
 *              or a write).
 *   send()     connection frames (Data, Window, …); dropped while there is no link, because every
 *              relayed connection was reset when it went down.
 *
 * Heartbeat: on a reconnecting transport the intproxy pings every `pingMs`; anything received counts
 * as life, and a link silent for `idleMs` is declared dead (a port-forward can hang without closing).
 * Connection frames go to the route given to routeConns. Events: `message` (frames the intproxy serves), `down` (the link dropped: reset relays), `up`
 * (re-established), `lost` (no agent any more: the transport's agent exited, or it could not be
 * reached again within `graceMs`).
 */
import { EventEmitter } from 'node:events';
import { E, EHOSTDOWN } from '../common/errno.js';
import { logger } from '../common/log.js';
import { helloFrom } from '../link/hello.js';
import { Link, LinkClosed, RemoteError } from '../link/link.js';
import { Role, type MessageName } from '../protocol/spec.js';
import type { Message, MessageOf, Unsent } from '../protocol/types.js';
import type { ConnFrame } from '../link/conns.js';
import type { AgentStream, Transport } from './transports.js';

const log = logger('intproxy');

/** Requests that may be sent again after a drop: they read, they change nothing. */
const idempotent = new Set<MessageName>(['Resolve', 'Stat', 'Access', 'ReadLink', 'ReadDir', 'ReadFile', 'GetEnv', 'Ping']);

export interface AgentInfo {
  agentPid: number;
  build: string;
}

export interface AgentLinkOptions {
  token: string;
  pingMs: number;
  idleMs: number;
  /** How long to keep trying to reach the agent again after a drop. */
  graceMs: number;
}

interface AgentLinkEvents {
  message: [Message];
  down: [string];
  up: [{ afterMs: number }];
  lost: [string];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class AgentLink extends EventEmitter<AgentLinkEvents> {
  private link: Link | undefined;
  private stream: AgentStream | undefined;
  private waiting: ((ok: boolean) => void)[] = [];
  private lostWhy: string | undefined;
  private stopped = false;
  private lastSeen = 0;
  /** The link's read count when the heartbeat last looked (Link.reads). */
  private readsSeen = 0;
  private connRoute: ((m: ConnFrame) => void) | undefined;
  private pinger: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly opts: AgentLinkOptions,
  ) {
    super();
    void transport.gone.then((why) => this.lose(`the agent ${why}`));
  }

  /** Reach the agent and say Hello, trying again until `deadline` (ms since the epoch). */
  async start(deadline: number): Promise<AgentInfo> {
    const since = Date.now();
    let lastError: Error = new Error('not tried');
    for (let delay = 50; Date.now() < deadline && this.lostWhy === undefined; delay = Math.min(delay * 2, 500)) {
      try {
        return await this.attach(deadline);
      } catch (e) {
        lastError = e as Error;
        if (isFinal(e) || !this.transport.reconnects) throw e;
        await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      }
    }
    if (this.lostWhy !== undefined) throw new Error(this.lostWhy);
    throw new StartTimeout(`no answer within ${((Date.now() - since) / 1000).toFixed(0)} s; last: ${lastError.message}`);
  }

  /** One attempt: open the transport, say Hello within the deadline, and make that the link. */
  private async attach(deadline: number): Promise<AgentInfo> {
    const stream = await this.transport.open();
    const link = new Link(stream.input, stream.output, undefined, { self: 'this podlink', peer: 'the agent' });
    let timer: NodeJS.Timeout | undefined;
    try {
      const hello = link.request('Hello', helloFrom(Role.intproxy, 'intproxy', this.opts.token));
      const wait = Math.max(0, deadline - Date.now());
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to Hello within ${(wait / 1000).toFixed(wait < 1000 ? 1 : 0)} s`)), wait);
      });
      const ok = await Promise.race([hello, timeout, this.transport.gone.then((why) => Promise.reject(new FinalError(`the agent ${why}`)))]);
      if (ok.type !== 'HelloOk') throw new Error(`unexpected ${ok.type} for Hello`);
      this.adopt(link, stream);
      return { agentPid: ok.agentPid, build: ok.build };
    } catch (e) {
      link.shutdown(e as Error);
      stream.close();
      // A stream that ended before Hello was answered: the transport's reason says more.
      const reason = e instanceof LinkClosed ? await Promise.race([stream.closed, sleep(100)]) : undefined;
      throw reason ?? e;
    } finally {
      clearTimeout(timer);
    }
  }

  private adopt(link: Link, stream: AgentStream): void {
    this.link = link;
    this.stream = stream;
    this.lastSeen = Date.now();
    this.readsSeen = link.reads;
    if (this.connRoute) link.routeConns(this.connRoute);
    link.on('message', (m) => this.emit('message', m));
    link.on('close', (reason) => this.dropped(link, reason?.message ?? 'the stream ended'));
    for (const w of this.waiting.splice(0)) w(true);
    if (this.transport.reconnects) {
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.heartbeat(), this.opts.pingMs);
    }
  }

  private heartbeat(): void {
    const link = this.link;
    if (!link) return;
    // Anything read since the last look counts as life (looked at here, not on every read).
    if (link.reads !== this.readsSeen) {
      this.readsSeen = link.reads;
      this.lastSeen = Date.now();
    }
    if (Date.now() - this.lastSeen > this.opts.idleMs) {
      link.shutdown(new Error(`no answer from the agent for ${this.opts.idleMs / 1000} s`));
      return;
    }
    link.request('Ping', {}).catch(() => undefined);
  }

  private dropped(link: Link, why: string): void {
    if (this.link !== link) return;
    this.link = undefined;
    this.stream?.close();
    this.stream = undefined;
    clearInterval(this.pinger);
    if (this.stopped || this.lostWhy !== undefined) return;
    this.emit('down', why);
    if (!this.transport.reconnects) return; // the spawn transport reports the agent's exit through `gone`
    log.debug('link', `link to the agent dropped (${why}); reconnecting`);
    void this.reconnect(why);
  }

  private async reconnect(why: string): Promise<void> {
    const since = Date.now();
    const deadline = since + this.opts.graceMs;
    try {
      await this.start(deadline);
      log.debug('link', `link to the agent re-established after ${Date.now() - since} ms`);
      this.emit('up', { afterMs: Date.now() - since });
    } catch (e) {
      this.lose(`the link to the agent dropped (${why}) and could not be re-established within ${this.opts.graceMs / 1000} s: ${(e as Error).message}`);
    }
  }

  private lose(why: string): void {
    if (this.lostWhy !== undefined || this.stopped) return;
    this.lostWhy = why;
    clearInterval(this.pinger);
    for (const w of this.waiting.splice(0)) w(false);
    this.link?.shutdown(new Error(why));
    this.emit('lost', why);
  }

  /** Wait for a link; false when the agent is lost. */
  private ready(): Promise<boolean> {
    if (this.link) return Promise.resolve(true);
    if (this.lostWhy !== undefined || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async request<N extends MessageName>(type: N, fields: Omit<MessageOf<N>, 'type' | 'id'>): Promise<Message> {
    for (;;) {
      if (!(await this.ready())) throw new RemoteError(EHOSTDOWN, this.lostWhy ?? 'the session is stopping');
      try {
        return await this.link!.request(type, fields);
      } catch (e) {
        // Interrupted by a drop: reads are sent again on the next link; anything else fails as a reset.
        if (!(e instanceof LinkClosed) || !this.transport.reconnects || this.lostWhy !== undefined) throw e;
        if (!idempotent.has(type)) throw new RemoteError(E.ECONNRESET, `the link to the agent dropped during ${type}`);
      }
    }
  }

  send(m: Message): boolean {
    return this.link?.send(m) ?? false;
  }

  hold(): void {
    this.link?.hold();
  }

  release(): void {
    this.link?.release();
  }

  /** Connection frames of this link and every later one go to `route` (Link.routeConns). */
  routeConns(route: (m: ConnFrame) => void): void {
    this.connRoute = route;
    this.link?.routeConns(route);
  }

  /** Answer a request the agent made (IncomingOpen) on the link it came on; dropped if that link is gone. */
  reply(to: Message, m: Unsent): void {
    this.link?.reply(to, m);
  }

  replyError(to: Message, errno: number, message: string): void {
    this.link?.replyError(to, errno, message);
  }

  get lost(): string | undefined {
    return this.lostWhy;
  }

  /** End the session: close the link, stop an agent this transport owns. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pinger);
    for (const w of this.waiting.splice(0)) w(false);
    this.link?.shutdown();
    this.stream?.close();
    await this.transport.stop();
  }
}

/** The agent could not be reached before the start-up deadline. */
export class StartTimeout extends Error {}

/** A failure that retrying cannot fix (the agent is gone, the session token is wrong, …). */
class FinalError extends Error {}

function isFinal(e: unknown): boolean {
  if (e instanceof FinalError) return true;
  if (e instanceof RemoteError && !(e instanceof LinkClosed)) return true; // the agent answered, and said no
  return (e as { final?: boolean }).final === true;
}
