/**
 * What a cluster session does with the other sessions on its target (kube/sessions.ts):
 *
 *   before it starts   a steal that would conflict on a port other sessions of the target's pod hold
 *                      (an unfiltered steal where filters share the port, a filter where a session
 *                      steals it whole, the very filter of another session) is refused at once, from
 *                      their annotations (agent Jobs, and ephemeral agents' records while their
 *                      container runs), with the line the agent's dispatcher would give — assuming
 *                      the app will listen on that port, as a version of the target's app does
 *                      (incoming.ports / ignore_ports say otherwise). Nothing is started. The
 *                      dispatcher in the agent stays the authority: a session whose port is not
 *                      recorded yet, or one that comes in meanwhile, is refused there.
 *   while it runs      the target ports it holds are recorded on its agent's Job (an ephemeral
 *                      agent's: its record) as podlink.dev/ports: added as they are taken, removed
 *                      when the app stops listening.
 */
import { conflict, type Subscriber } from '../agent/incoming/dispatcher.js';
import { describeFilter, type WireFilter } from '../agent/incoming/filter.js';
import { filterFor, portStaysLocal, type IncomingSettings } from '../intproxy/incoming-settings.js';
import type { Kube } from '../kube/client.js';
import { filterOn, listSessions, recordPorts, type ListedSession } from '../kube/sessions.js';
import { FilterMatch } from '../protocol/spec.js';
import type { KubeCtx } from './kube-launch.js';

/** What conflict() looks at of a session: whether it filters, the filter as sent, who. */
function asSubscriber(wire: WireFilter, owner: Subscriber['owner']): Subscriber {
  const filtered = wire.match !== FilterMatch.none;
  return { session: undefined as never, wire, describe: describeFilter(wire), owner, ...(filtered ? { filter: () => false } : {}) };
}

/** Whether this session would take the target's `port` (assuming its app listens where the port maps from). */
function wouldTake(s: IncomingSettings, port: number): boolean {
  const mapped = s.portMapping.find(([, remote]) => remote === port);
  if (!mapped && s.portMapping.some(([local]) => local === port)) return false; // its app's `port` goes elsewhere
  return portStaysLocal(s, mapped?.[0] ?? port, false) === undefined;
}

/** The line refusing this session, from the sessions in `others`; undefined when none conflicts. */
export function heldPortConflict(s: IncomingSettings, others: ListedSession[], pod: string): string | undefined {
  if (s.mode !== 'steal' || s.onConcurrentSteal !== 'abort') return undefined;
  const holders = others.filter((o) => o.pod === pod && o.mode === 'steal');
  const ports = [...new Set(holders.flatMap((o) => o.ports))].sort((a, b) => a - b);
  for (const port of ports) {
    if (!wouldTake(s, port)) continue;
    const theirs = holders.filter((o) => o.ports.includes(port)).map((o) => asSubscriber(filterOn(o, port), { user: o.user, host: o.host, since: Date.parse(o.since) }));
    const why = conflict(port, asSubscriber(filterFor(s, port), { ...s.owner, since: Date.now() }), theirs);
    if (why) return why;
  }
  return undefined;
}

/** The sessions whose agents run in `namespaces`; none from a namespace they cannot be listed in (the agent then decides). */
export async function sessionsAround(kube: Kube, namespaces: string[]): Promise<ListedSession[]> {
  const lists = await Promise.all([...new Set(namespaces)].map((ns) => listSessions(kube, ns).catch(() => [])));
  return lists.flat();
}

/** Records that the session took (or gave back) the target's `port`; patches one after the other. */
export function recordPort(ctx: KubeCtx, port: number, taken: boolean, warn: (line: string) => void): void {
  const kube = ctx.kube;
  const pod = ctx.agentPod;
  if (!kube || !pod?.job) return;
  const ports = (ctx.ports ??= new Set());
  if (ports.has(port) === taken) return;
  if (taken) ports.add(port);
  else ports.delete(port);
  const job = pod.job;
  ctx.recording = (ctx.recording ?? Promise.resolve()).then(() =>
    recordPorts(kube, pod.namespace, job, ports).catch((e: Error & { hint?: string }) =>
      warn(`podlink: \`podlink sessions\` ${taken ? 'will not show' : 'may still show'} port ${port} of this session: ${e.message}${e.hint ? ` (${e.hint})` : ''}`)),
  );
}
