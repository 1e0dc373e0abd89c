/**
 * Incoming traffic, agent side: one per agent process (one target). It owns the port dispatchers, the
 * steal redirect (one nftables owner table, started on the first steal) and the mirror capture
 * (started on the first mirror), and serves Subscribe/Unsubscribe for the sessions on its links.
 *
 * A session's subscriptions end with its link: the redirect of a port nobody else takes is removed at
 * once (and with the last stolen port the whole table: the pod's ruleset is as it was), so while a link is down (a dropped port-forward) the pod serves its own traffic; the intproxy
 * subscribes again when it is back. When the agent process ends, the kernel removes the table
 * (redirect.ts) and the capture helper dies with its pipe (mirror.ts).
 */
import { E } from '../../common/errno.js';
import { logger } from '../../common/log.js';
import { IncomingMode } from '../../protocol/spec.js';
import type { MessageOf } from '../../protocol/types.js';
import type { IncomingSession } from './delivery.js';
import { PortDispatcher, SubscribeError, type MirrorSource } from './dispatcher.js';
import { compileFilter, describeFilter } from './filter.js';
import { Mirror } from './mirror.js';
import { Redirector, RedirectUnavailable } from './redirect.js';

const log = logger('agent');

export class AgentIncoming {
  private readonly ports = new Map<number, PortDispatcher>();
  private redirector: Promise<Redirector> | undefined;
  private mirror: Promise<MirrorSource> | undefined;
  /** The ports each session subscribed. */
  private readonly bySession = new Map<string, Set<number>>();

  private readonly deps = {
    redirector: (): Promise<Redirector> => {
      this.redirector ??= Redirector.start();
      // A failed start is not kept: the next steal tries again (and reports the same line).
      this.redirector.catch(() => (this.redirector = undefined));
      return this.redirector;
    },
    mirror: (): Promise<MirrorSource> => {
      this.mirror ??= Mirror.start();
      this.mirror.catch(() => (this.mirror = undefined));
      return this.mirror;
    },
  };

  /** Serves a Subscribe; throws SubscribeError (errno + the line to show) when it cannot be done. */
  async subscribe(session: IncomingSession, m: MessageOf<'Subscribe'>): Promise<void> {
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
    let d = this.ports.get(m.port);
    if (!d) this.ports.set(m.port, (d = new PortDispatcher(m.port, this.deps)));
    try {
      await d.add({ session, mode, ...(filter ? { filter } : {}), describe: describeFilter(m.filter) });
    } catch (e) {
      if (d.empty) this.ports.delete(m.port);
      if (e instanceof SubscribeError) throw e;
      if (e instanceof RedirectUnavailable) throw new SubscribeError(E.EOPNOTSUPP, `port ${m.port} cannot be stolen: ${e.message}`);
      throw new SubscribeError(E.EIO, `port ${m.port}: ${(e as Error).message}`);
    }
    let set = this.bySession.get(session.id);
    if (!set) this.bySession.set(session.id, (set = new Set()));
    set.add(m.port);
  }

  async unsubscribe(session: IncomingSession, port: number): Promise<void> {
    this.bySession.get(session.id)?.delete(port);
    const d = this.ports.get(port);
    if (!d) return;
    await d.remove(session.id);
    if (d.empty) this.ports.delete(port);
    await this.idle();
  }

  /** No port is stolen any more: `nft` goes, and the kernel removes the table (the next steal makes a new one). */
  private async idle(): Promise<void> {
    if (!this.redirector || [...this.ports.values()].some((d) => d.stealing)) return;
    const r = this.redirector;
    this.redirector = undefined;
    (await r.catch(() => undefined))?.stop();
  }

  /** The session's link is gone: every port it subscribed is given back. */
  async detach(session: IncomingSession): Promise<void> {
    const ports = [...(this.bySession.get(session.id) ?? [])];
    this.bySession.delete(session.id);
    for (const port of ports) await this.unsubscribe(session, port).catch((e: Error) => log.warn(`port ${port}: ${e.message}`));
  }
}

/** The agent process's one instance (every session of the process shares the target's ports). */
let shared: AgentIncoming | undefined;
export function agentIncoming(): AgentIncoming {
  return (shared ??= new AgentIncoming());
}
