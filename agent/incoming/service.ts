/**
 * Incoming traffic, agent side: one per agent process (one target). It serves Subscribe/Unsubscribe
 * for the sessions on its links:
 *
 *   steal    through the port's share (share.ts): this agent hosts the port's dispatcher, with the
 *            redirect in its one nftables owner table (redirect.ts, started with the first hosted
 *            port), or registers with the agent that does.
 *   mirror   the capture (mirror.ts, started on the first mirror) gives each mirroring session of
 *            this agent its own copy; other agents mirroring the same port run their own capture.
 *
 * A session's subscriptions end with its link: the port is given back at once (and with the last
 * hosted port the whole table: the pod's ruleset is as it was), so while a link is down (a dropped
 * port-forward) the pod serves its own traffic; the intproxy subscribes again when it is back, with
 * the same `since`. When the agent process ends, the kernel removes the table (redirect.ts), its
 * abstract sockets close (the other agents take the port over) and the capture helper dies with its
 * pipe (mirror.ts).
 */
import { E } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import { IncomingMode } from '../../protocol/spec.js';
import type { MessageOf } from '../../protocol/types.js';
import type { LinkSession } from './delivery.js';
import { SubscribeError } from './dispatcher.js';
import { compileFilter, describeFilter } from './filter.js';
import { Mirror, type MirrorPort } from './mirror.js';
import { DeliveryEndpoint } from './peer.js';
import { Redirector, RedirectUnavailable } from './redirect.js';
import { PortShare } from './share.js';

const log = logger('agent');

export class AgentIncoming {
  private readonly shares = new Map<number, PortShare>();
  /** Mirrored ports: the sessions of this agent that want copies. */
  private readonly mirrored = new Map<number, Map<string, LinkSession>>();
  private redirector: Promise<Redirector> | undefined;
  private mirror: Promise<Mirror> | undefined;
  private endpoint: Promise<DeliveryEndpoint> | undefined;

  private readonly deps = {
    redirector: (): Promise<Redirector> => {
      this.redirector ??= Redirector.start();
      // A failed start is not kept: the next steal tries again (and reports the same line).
      this.redirector.catch(() => (this.redirector = undefined));
      return this.redirector;
    },
    endpoint: (): Promise<DeliveryEndpoint> => {
      this.endpoint ??= DeliveryEndpoint.start();
      this.endpoint.catch(() => (this.endpoint = undefined));
      return this.endpoint;
    },
    changed: (): void => void this.idle(),
  };

  private startMirror(): Promise<Mirror> {
    this.mirror ??= Mirror.start();
    this.mirror.catch(() => (this.mirror = undefined));
    return this.mirror;
  }

  /** Serves a Subscribe; throws SubscribeError (errno + the line to show) when it cannot be done. */
  async subscribe(session: LinkSession, m: MessageOf<'Subscribe'>): Promise<void> {
    if (m.port === 0) throw new SubscribeError(E.EINVAL, 'port 0 cannot be subscribed');
    const mode = m.mode === IncomingMode.steal ? 'steal' : m.mode === IncomingMode.mirror ? 'mirror' : undefined;
    if (!mode) throw new SubscribeError(E.EINVAL, `unknown incoming mode ${m.mode}`);
    let filter;
    try {
      filter = compileFilter(m.filter);
    } catch (e) {
      throw new SubscribeError(E.EINVAL, (e as Error).message);
    }
    if (filter && mode === 'mirror') throw new SubscribeError(E.EOPNOTSUPP, 'an HTTP filter applies to steal; mirror copies whole connections');
    // A session changing its mode on a port gives the other one up first.
    await this.unsubscribe(session, m.port);
    try {
      if (mode === 'mirror') return await this.addMirror(session, m.port);
      let share = this.shares.get(m.port);
      if (!share) this.shares.set(m.port, (share = new PortShare(m.port, this.deps)));
      const owner = { user: m.owner.user, host: m.owner.host, since: Number(m.owner.since) };
      await share.add({ session, wire: m.filter, describe: describeFilter(m.filter), owner, ...(filter ? { filter } : {}) });
    } catch (e) {
      const share = this.shares.get(m.port);
      if (share?.empty) this.shares.delete(m.port);
      if (e instanceof SubscribeError) throw e;
      if (e instanceof RedirectUnavailable) throw new SubscribeError(E.EOPNOTSUPP, `port ${m.port} cannot be stolen: ${e.message}`);
      throw new SubscribeError(E.EIO, `port ${m.port}: ${(e as Error).message}`);
    }
  }

  private async addMirror(session: LinkSession, port: number): Promise<void> {
    let sessions = this.mirrored.get(port);
    if (!sessions) this.mirrored.set(port, (sessions = new Map()));
    sessions.set(session.id, session);
    const view: MirrorPort = { mirrors: () => [...(this.mirrored.get(port)?.values() ?? [])] };
    try {
      await (await this.startMirror()).watch(port, view);
    } catch (e) {
      sessions.delete(session.id);
      if (!sessions.size) this.mirrored.delete(port);
      throw e;
    }
  }

  async unsubscribe(session: LinkSession, port: number): Promise<void> {
    const share = this.shares.get(port);
    if (share) {
      await share.remove(session.id);
      if (share.empty) this.shares.delete(port);
    }
    const sessions = this.mirrored.get(port);
    if (sessions?.delete(session.id) && !sessions.size) {
      this.mirrored.delete(port);
      await (await this.mirror?.catch(() => undefined))?.unwatch(port);
    }
    await this.idle();
  }

  /** No port is hosted any more: `nft` goes, and the kernel removes the table (the next steal makes a new one). */
  private async idle(): Promise<void> {
    if (!this.redirector || [...this.shares.values()].some((s) => s.hosting)) return;
    const r = this.redirector;
    this.redirector = undefined;
    (await r.catch(() => undefined))?.stop();
  }

  /** The session's link is gone: every port it subscribed is given back. */
  async detach(session: LinkSession): Promise<void> {
    const ports = new Set([...this.shares.keys(), ...this.mirrored.keys()]);
    for (const port of ports) await this.unsubscribe(session, port).catch((e: Error) => log.warn(`port ${port}: ${e.message}`));
  }
}

/** The agent process's one instance (every session of the process shares the target's ports). */
let shared: AgentIncoming | undefined;
export function agentIncoming(): AgentIncoming {
  return (shared ??= new AgentIncoming());
}
