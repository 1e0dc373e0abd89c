/**
 * A stolen port, shared by every agent in the target's network namespace that steals it (issue
 * "Several developers, one pod"). Each session has its own agent; they meet on the abstract unix
 * socket `@podlink/dispatch/<port>` of that namespace (peer.ts), with no server of ours and nothing
 * written in the cluster:
 *
 *   hosting    the agent that binds the name (bind is atomic: EADDRINUSE means another has it) runs
 *              the port's one dispatcher (dispatcher.ts) and owns its redirect (its own nft owner
 *              table); the other agents register their filters with it over their control
 *              connections. Matched requests go back to the registering agent (its delivery
 *              endpoint), which opens them towards its own session; unmatched ones go to the app.
 *   member     this agent's sessions are registered with the host.
 *
 * Hand-over, with no state to transfer: when the host goes (its session ends, it is SIGKILLed, its
 * laptop vanished past the grace period) its table goes with it (the kernel) and its control
 * connections close. Every member then races to bind the name; the winner installs its redirect and
 * places its own sessions, the others register theirs again — each with its original `since`, so
 * the first registered matching filter still wins. Requests in flight through the old host are cut.
 * A host whose own last session leaves steps down the same way (a cluster agent's pod is deleted when
 * its session ends: hosting must not outlive it). When the last session leaves, nothing remains.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { E } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import { PortDispatcher, SubscribeError, who, type Subscriber } from './dispatcher.js';
import { compileFilter, type WireFilter } from './filter.js';
import { DeliveryEndpoint, PeerSession, dispatchName, jsonLines, sendLine } from './peer.js';
import type { Redirector } from './redirect.js';
import { Serial } from '../../common/serial.js';

const log = logger('agent');

export interface ShareDeps {
  redirector(): Promise<Redirector>;
  /** This agent's delivery endpoint (made on first use). */
  endpoint(): Promise<DeliveryEndpoint>;
  /** Hosting started or stopped (the agent's nft table goes with its last hosted port). */
  changed(): void;
}

/** A session of this agent on this port, and the id of its registration. */
interface Local {
  sub: Subscriber;
  id: string;
}

/** The host went away under a request: join again. */
class HostGone extends Error {}

/** A member's control connection to the host. */
class HostLink {
  private readonly waiting = new Map<string, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  closed = false;

  constructor(
    private readonly socket: net.Socket,
    onClose: () => void,
  ) {
    socket.on('error', () => undefined);
    jsonLines(socket, (v) => {
      const w = this.waiting.get(String(v['id']));
      this.waiting.delete(String(v['id']));
      w?.resolve(v);
    });
    socket.once('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(new HostGone('the port\'s host went away'));
      this.waiting.clear();
      onClose();
    });
  }

  request(v: { op: string; id: string } & Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new HostGone('the port\'s host went away'));
    return new Promise((resolve, reject) => {
      this.waiting.set(v.id, { resolve, reject });
      sendLine(this.socket, v);
    });
  }

  send(v: unknown): void {
    if (!this.closed) sendLine(this.socket, v);
  }

  close(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class PortShare {
  private role: 'none' | 'host' | 'member' = 'none';
  private readonly local = new Map<string, Local>();
  private dispatcher: PortDispatcher | undefined;
  private control: net.Server | undefined;
  private readonly members = new Set<net.Socket>();
  private link: HostLink | undefined;
  private readonly serial = new Serial();

  constructor(
    readonly port: number,
    private readonly deps: ShareDeps,
  ) {}

  get hosting(): boolean {
    return this.role === 'host';
  }

  get empty(): boolean {
    return this.local.size === 0;
  }


  /** Steals the port for `sub`: SubscribeError (EBUSY names who) when that conflicts with a session there. */
  add(sub: Subscriber): Promise<void> {
    return this.serial.run(async () => {
      const old = this.local.get(sub.session.id);
      if (old) await this.unplace(old);
      const entry: Local = { sub, id: `${sub.session.id}.${randomBytes(6).toString('hex')}` };
      try {
        await this.place(entry);
      } catch (e) {
        this.local.delete(sub.session.id);
        if (!this.local.size) await this.leave();
        throw e;
      }
      this.local.set(sub.session.id, entry);
    });
  }

  remove(sessionId: string): Promise<void> {
    return this.serial.run(async () => {
      const entry = this.local.get(sessionId);
      if (!entry) return;
      this.local.delete(sessionId);
      await this.unplace(entry);
      if (!this.local.size) await this.leave();
    });
  }

  /** Puts a session into the port's dispatcher, here or at the host; joins (or re-joins) as needed. */
  private async place(entry: Local): Promise<void> {
    for (;;) {
      if (this.role === 'none') await this.join();
      if (this.role === 'host') return this.dispatcher!.add(entry.sub);
      try {
        return await this.register(entry);
      } catch (e) {
        if (!(e instanceof HostGone)) throw e;
      }
    }
  }

  private async unplace(entry: Local): Promise<void> {
    if (this.role === 'host') await this.dispatcher!.remove(entry.sub.session.id);
    else if (this.link) this.link.send({ op: 'unregister', id: entry.id });
    (await this.deps.endpoint().catch(() => undefined))?.unroute(entry.id);
  }

  private async register(entry: Local): Promise<void> {
    const endpoint = await this.deps.endpoint();
    const token = endpoint.route(entry.id, entry.sub.session);
    const { sub } = entry;
    const answer = await this.link!.request({ op: 'register', id: entry.id, owner: sub.owner, filter: sub.wire, describe: sub.describe, endpoint: endpoint.name, token }).catch((e: Error) => {
      endpoint.unroute(entry.id);
      throw e;
    });
    if (answer['op'] === 'registered') return;
    endpoint.unroute(entry.id);
    throw new SubscribeError(Number(answer['errno']) || E.EIO, String(answer['message'] ?? 'the port\'s host refused the subscription'));
  }

  /** Hosts the port if nobody does, else connects to the host; retries the short races between the two. */
  private async join(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await this.tryHost()) || (await this.tryMember())) return;
      await sleep(10 + Math.random() * 20);
    }
    throw new SubscribeError(E.EAGAIN, `port ${this.port}: cannot reach or become the port's dispatcher in the target's network namespace`);
  }

  private async tryHost(): Promise<boolean> {
    const server = net.createServer((s) => this.onMember(s));
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
      server.listen(dispatchName(this.port), () => resolve(true));
    });
    if (!bound) return false;
    this.control = server;
    this.dispatcher = new PortDispatcher(this.port, () => this.deps.redirector());
    this.role = 'host';
    this.deps.changed();
    log.debug('incoming', `port ${this.port}: this agent hosts the port's dispatcher`);
    return true;
  }

  private tryMember(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect({ path: dispatchName(this.port) });
      s.once('error', () => resolve(false)); // nobody listens (any more): race for the name again
      s.once('connect', () => {
        s.removeAllListeners('error');
        const link: HostLink = new HostLink(s, () => this.hostGone(link));
        this.link = link;
        this.role = 'member';
        resolve(true);
      });
    });
  }

  /** The host went away: race for the name again and put every session of ours back, in `since` order. */
  private hostGone(link: HostLink): void {
    if (this.link !== link) return;
    this.link = undefined;
    this.role = 'none';
    if (!this.local.size) return;
    log.debug('incoming', `port ${this.port}: the host went away; joining again`);
    void this.serial.run(async () => {
      const entries = [...this.local.values()].sort((a, b) => a.sub.owner.since - b.sub.owner.since);
      for (const entry of entries) {
        try {
          await this.place(entry);
        } catch (e) {
          // Only a conflicting session that came in during the hand-over can do this.
          log.warn(`port ${this.port}: ${who(entry.sub)} lost the port in a hand-over: ${(e as Error).message}`);
          this.local.delete(entry.sub.session.id);
        }
      }
      if (!this.local.size) await this.leave();
    });
  }

  /** The host's side of a member's control connection: its registrations live as long as it does. */
  private onMember(s: net.Socket): void {
    this.members.add(s);
    s.on('error', () => undefined);
    const mine = new Set<string>();
    jsonLines(s, (v) => {
      const id = String(v['id']);
      const d = this.dispatcher;
      if (!d) return void s.destroy();
      if (v['op'] === 'unregister') {
        if (mine.delete(id)) void d.remove(`peer:${id}`);
        return;
      }
      if (v['op'] !== 'register') return;
      void this.admit(d, v).then(
        () => {
          mine.add(id);
          if (s.destroyed) void d.remove(`peer:${id}`);
          else sendLine(s, { op: 'registered', id });
        },
        (e: Error) => sendLine(s, { op: 'refused', id, errno: (e as SubscribeError).errno ?? E.EINVAL, message: e.message }),
      );
    });
    s.once('close', () => {
      this.members.delete(s);
      for (const id of mine) void this.dispatcher?.remove(`peer:${id}`);
    });
  }

  private async admit(d: PortDispatcher, v: Record<string, unknown>): Promise<void> {
    const wire = v['filter'] as WireFilter;
    const owner = v['owner'] as Subscriber['owner'];
    const describe = String(v['describe']);
    let filter;
    try {
      filter = compileFilter(wire);
    } catch (e) {
      throw new SubscribeError(E.EINVAL, (e as Error).message);
    }
    const session = new PeerSession(String(v['id']), who({ owner, describe }), String(v['endpoint']), String(v['token']));
    await d.add({ session, wire, describe, owner, ...(filter ? { filter } : {}) });
  }

  /** Nothing of ours is left here: stop hosting (the members race for the name) or drop the membership. */
  private async leave(): Promise<void> {
    if (this.role === 'host') {
      this.role = 'none';
      this.control?.close();
      this.control = undefined;
      for (const m of this.members) m.destroy();
      this.members.clear();
      const d = this.dispatcher;
      this.dispatcher = undefined;
      await d?.stop();
      this.deps.changed();
      log.debug('incoming', `port ${this.port}: this agent no longer hosts the port`);
    } else if (this.role === 'member') {
      this.role = 'none';
      const link = this.link;
      this.link = undefined;
      link?.close();
    }
  }
}
