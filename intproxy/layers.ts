/**
 * The unix socket every hooked process of the session connects to. Each layer connection is a Link
 * of its own: requests are answered from the agent (forwarded with a fresh id on the agent link) or
 * by the intproxy itself (Hello, Connect, Release, and Resolve while its answer's TTL lasts: dns-cache.ts).
 */
import fs from 'node:fs';
import net from 'node:net';
import { E, errnoOf } from '../common/errno.js';
import { logger } from '../common/log.js';
import { Link, StreamEnded, type LinkPeer } from '../link/link.js';
import { helloOk } from '../link/hello.js';
import type { Message, MessageOf, Unsent } from '../protocol/types.js';
import { DnsCache } from './dns-cache.js';
import type { IntproxyIncoming } from './incoming.js';
import type { IntproxyOutgoing } from './outgoing.js';

const log = logger('intproxy');

/** Requests the agent answers as they are. */
const forwarded = new Set<Message['type']>(['GetAddrConfig', 'Stat', 'Access', 'ReadLink', 'ReadDir', 'ReadFile', 'WriteFile']);

export interface LayerProcess {
  pid: number;
  ppid: number;
  name: string;
}

export class LayerServer {
  private readonly server = net.createServer({ noDelay: true });
  private readonly links = new Set<Link>();
  /** Processes that said Hello, by pid (the process tree of the session). */
  readonly processes = new Map<number, LayerProcess>();
  /** HelloOk held for a link whose Hello came with a request behind it (see handle), and requests in work. */
  private readonly heldHello = new WeakMap<Link, () => void>();
  private readonly working = new WeakMap<Link, number>();
  /** Which process each link said Hello for, and how many links each process has open. */
  private readonly pidOf = new Map<Link, number>();
  private readonly linksOf = new Map<number, number>();
  private readonly dns = new DnsCache();

  constructor(
    private readonly agent: LinkPeer,
    private readonly outgoing: IntproxyOutgoing,
    private readonly agentPid: number,
    private readonly incoming?: IntproxyIncoming,
  ) {
    this.server.on('connection', (socket) => this.accept(socket));
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        fs.chmodSync(path, 0o600);
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    const link = new Link(socket, socket, undefined, { self: 'the intproxy', peer: 'the layer of this process' });
    this.links.add(link);
    link.on('close', (reason) => {
      if (reason && !(reason instanceof StreamEnded)) log.debug('layer', `link of pid ${this.pidOf.get(link) ?? '?'} closed: ${reason.message}`);
      this.links.delete(link);
      const pid = this.pidOf.get(link);
      this.pidOf.delete(link);
      if (pid === undefined) return;
      const left = (this.linksOf.get(pid) ?? 1) - 1;
      if (left > 0) return void this.linksOf.set(pid, left);
      this.linksOf.delete(pid);
      // The process is gone (a process keeps its links while it lives): so are its listening sockets.
      this.incoming?.processGone(pid);
    });
    link.on('message', (m) => this.handle(link, m));
  }

  private handle(link: Link, m: Message): void {
    if (m.type === 'Hello') {
      // (A Hello of another protocol version never gets here: the link refuses it.)
      this.processes.set(m.pid, { pid: m.pid, ppid: m.ppid, name: m.name });
      if (!this.pidOf.has(link)) {
        this.pidOf.set(link, m.pid);
        this.linksOf.set(m.pid, (this.linksOf.get(m.pid) ?? 0) + 1);
      }
      log.debug('layer', `${m.name} pid ${m.pid} (parent ${m.ppid}) connected`);
      // A Hello with a request right behind it (a non-blocking connect's own link) is answered together
      // with that request: one write, one wake-up of the layer. A Hello alone is answered in this turn.
      const ok = (): void => {
        if (this.heldHello.get(link) !== ok) return;
        this.heldHello.delete(link);
        link.reply(m, helloOk(this.agentPid));
      };
      this.heldHello.set(link, ok);
      process.nextTick(() => {
        if (!this.working.get(link)) ok();
      });
      return;
    }
    if (m.type === 'Release') {
      this.outgoing.release(m.conn);
      return;
    }
    if (m.type === 'Listen' || m.type === 'Unlisten' || m.type === 'IncomingPeer') return this.handleIncoming(link, m);
    if (m.type === 'Resolve') {
      const ask = async () => {
        const res = await this.agent.request('Resolve', { name: m.name, family: m.family });
        if (res.type !== 'Resolved') throw new Error(`the agent answered Resolve with ${res.type}`);
        const { id: _id, type: _type, ...answer } = res;
        return answer;
      };
      this.answer(link, m, async () => ({ type: 'Resolved', ...(await this.dns.resolve(m.name, m.family, ask)) }));
      return;
    }
    if (m.type === 'Connect') {
      this.answer(link, m, async () => ({ type: 'Connected', ...(await this.outgoing.connect(m, link, this.pidOf.get(link))) }));
      return;
    }
    if (forwarded.has(m.type)) {
      this.answer(link, m, async () => {
        const { type, id: _id, ...fields } = m;
        const { id: _rid, ...res } = await this.agent.request(type, fields as never);
        return res as Unsent;
      });
      return;
    }
    if (m.id !== 0) link.replyError(m, E.EOPNOTSUPP, `the intproxy does not serve ${m.type} from a layer`);
  }

  private handleIncoming(link: Link, m: MessageOf<'Listen'> | MessageOf<'Unlisten'> | MessageOf<'IncomingPeer'>): void {
    const pid = this.pidOf.get(link) ?? 0;
    const incoming = this.incoming;
    if (m.type === 'Unlisten') return void incoming?.unlisten(m.local, pid);
    if (!incoming) return link.replyError(m, E.ENOENT, 'incoming traffic is off');
    if (m.type === 'Listen') return this.answer(link, m, async () => (await incoming.listen(m, pid), { type: 'Ok' }));
    this.answer(link, m, async () => ({ type: 'Peer', ...(await incoming.peer(m)) }));
  }

  private answer(link: Link, m: Message, work: () => Promise<Unsent>): void {
    this.working.set(link, (this.working.get(link) ?? 0) + 1);
    const done = (): void => {
      this.working.set(link, this.working.get(link)! - 1);
      this.heldHello.get(link)?.();
    };
    work().then(
      (res) => {
        done();
        link.reply(m, res);
      },
      (err: unknown) => {
        done();
        link.replyError(m, errnoOf(err), (err as Error).message);
      },
    );
  }

  close(): void {
    this.server.close();
    this.outgoing.close();
    for (const l of this.links) l.shutdown();
  }
}
