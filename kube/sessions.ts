/**
 * Who is on a target's incoming traffic, read from the cluster alone: every session's agent Job
 * carries what `podlink sessions` shows (no server of ours, nothing else written anywhere).
 *
 *   podlink.dev/user, /host     who runs the session (the OS user and the machine, cli/owner.ts)
 *   podlink.dev/kube-user       the kubeconfig user entry it runs as
 *   podlink.dev/target, /pod    the target path as given, and the pod it resolved to
 *   podlink.dev/mode            mirror, steal or off (feature.network.incoming)
 *   podlink.dev/filter          the HTTP filter in its wire form (JSON), only when there is one
 *   podlink.dev/filter-ports    http_filter.ports (the filter applies there only), comma-separated
 *   podlink.dev/since           when the session started (ISO 8601, ms)
 *   podlink.dev/ports           the target's ports the session has taken, comma-separated: the app
 *                               decides them by listening, so the CLI patches this one as each is
 *                               subscribed (a port given back stays listed until the session ends)
 *
 * Everything goes with the Job when the session ends. A Job that finished (its agent exited, the TTL
 * has not removed it yet) or is being deleted is no session any more.
 *
 * An ephemeral agent (agent.ephemeral) has no Job of its own, and its container can never be removed
 * from the target pod. Its session is recorded on a Job that runs nothing (kube/agent-spec.ts
 * recordJob: suspended, named as the container, owned by the target pod) with the same annotations
 * and one more:
 *
 *   podlink.dev/ephemeral-container   the agent's ephemeral container in the pod podlink.dev/pod
 *
 * Such a record counts only while that container is running (the pod's ephemeralContainerStatuses):
 * the CLI deletes it on a normal end, the intproxy when the CLI was killed; a record left by both
 * being killed stops counting once the agent exits after its grace period, and is deleted by the next
 * ephemeral session started in that pod (staleRecords), or goes with the pod. So
 * the same permissions (list/create/patch/delete jobs, get pods) serve both kinds of agent.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describeFilter, type WireFilter } from '../agent/incoming/filter.js';
import { FilterMatch } from '../protocol/spec.js';
import { call } from './call.js';
import type { Kube } from './client.js';
import { apiError, httpStatus } from './errors.js';

export const SESSION_KEYS = {
  user: 'podlink.dev/user',
  host: 'podlink.dev/host',
  kubeUser: 'podlink.dev/kube-user',
  target: 'podlink.dev/target',
  pod: 'podlink.dev/pod',
  mode: 'podlink.dev/mode',
  filter: 'podlink.dev/filter',
  filterPorts: 'podlink.dev/filter-ports',
  since: 'podlink.dev/since',
  ports: 'podlink.dev/ports',
  ephemeralContainer: 'podlink.dev/ephemeral-container',
} as const;

/** What a session records on its agent as it starts. */
export interface SessionFacts {
  id: string;
  user: string;
  host: string;
  kubeUser?: string;
  target?: string;
  pod?: string;
  /** ms since the epoch. */
  since?: number;
  incoming?: { mode: 'mirror' | 'steal' | 'off'; filter?: WireFilter; filterPorts?: number[] };
}

/** A session as `podlink sessions` lists it. */
export interface ListedSession {
  namespace: string;
  /** The agent's Job, or for an ephemeral agent its container (and record Job) name. */
  agent: string;
  /** The agent is an ephemeral container of the target pod (agent.ephemeral). */
  ephemeral?: true;
  user: string;
  host: string;
  kubeUser?: string;
  target?: string;
  pod?: string;
  /** `?` for an agent started by a podlink that did not record it. */
  mode: 'mirror' | 'steal' | 'off' | '?';
  /** The wire filter (undefined: whole ports). */
  wire?: WireFilter;
  /** Readable, e.g. `header ^X-Dev-User: alice$`; undefined = unfiltered. */
  filter?: string;
  filterPorts?: number[];
  /** The target's ports taken so far. */
  ports: number[];
  /** ISO 8601. */
  since: string;
}

export const portList = (ports: Iterable<number>): string => [...new Set(ports)].sort((a, b) => a - b).join(',');

function parsePorts(text: string | undefined): number[] {
  if (!text) return [];
  return text.split(',').map((p) => Number(p.trim())).filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
}

export function sessionAnnotations(f: SessionFacts): Record<string, string> {
  const a: Record<string, string> = { [SESSION_KEYS.user]: f.user, [SESSION_KEYS.host]: f.host };
  if (f.kubeUser) a[SESSION_KEYS.kubeUser] = f.kubeUser;
  if (f.target) a[SESSION_KEYS.target] = f.target;
  if (f.pod) a[SESSION_KEYS.pod] = f.pod;
  if (f.incoming) {
    a[SESSION_KEYS.mode] = f.incoming.mode;
    if (f.incoming.filter && f.incoming.filter.match !== FilterMatch.none) {
      a[SESSION_KEYS.filter] = JSON.stringify(f.incoming.filter);
      if (f.incoming.filterPorts) a[SESSION_KEYS.filterPorts] = portList(f.incoming.filterPorts);
    }
  }
  if (f.since !== undefined) a[SESSION_KEYS.since] = new Date(f.since).toISOString();
  return a;
}

function wireOf(text: string | undefined): WireFilter | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as WireFilter;
    return Array.isArray(v?.rules) && typeof v.match === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the ephemeral container `name` of `pod` is running (a pod that is gone runs nothing). */
export function ephemeralRunning(pod: V1Pod | undefined, name: string): boolean {
  return (pod?.status?.ephemeralContainerStatuses ?? []).some((c) => c.name === name && c.state?.running !== undefined);
}

/**
 * Records of ephemeral agents in `pod` whose container has exited (it can never run again: ephemeral
 * containers are not restarted), left by a session whose CLI and intproxy were both killed. A record
 * whose container is not there yet, or still waiting, may be a session starting: kept.
 */
export function staleRecords(jobs: readonly V1Job[], pod: V1Pod): string[] {
  const statuses = pod.status?.ephemeralContainerStatuses ?? [];
  return jobs.flatMap((j) => {
    const a = j.metadata?.annotations ?? {};
    const container = a[SESSION_KEYS.ephemeralContainer];
    if (!container || !j.metadata?.name || j.metadata.deletionTimestamp || a[SESSION_KEYS.pod] !== pod.metadata?.name) return [];
    return statuses.some((c) => c.name === container && c.state?.terminated !== undefined) ? [j.metadata.name] : [];
  });
}

/** The pod an ephemeral agent's record names (undefined: the Job is an agent's own). */
export function recordedPod(job: V1Job): string | undefined {
  const a = job.metadata?.annotations ?? {};
  return a[SESSION_KEYS.ephemeralContainer] ? a[SESSION_KEYS.pod] : undefined;
}

/**
 * The session an agent Job, or an ephemeral agent's record, stands for; undefined when it is not one
 * (any more). `pods`: the pods records name, by name (a record whose pod is not there is no session).
 */
export function sessionOf(job: V1Job, pods: ReadonlyMap<string, V1Pod> = new Map()): ListedSession | undefined {
  const m = job.metadata;
  if (!m?.name || m.deletionTimestamp || m.labels?.['app.kubernetes.io/name'] !== 'podlink-agent') return undefined;
  if ((job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) return undefined;
  const a = m.annotations ?? {};
  const container = a[SESSION_KEYS.ephemeralContainer];
  if (container && !ephemeralRunning(pods.get(a[SESSION_KEYS.pod] ?? ''), container)) return undefined;
  const mode = a[SESSION_KEYS.mode];
  const wire = wireOf(a[SESSION_KEYS.filter]);
  const s: ListedSession = {
    namespace: m.namespace ?? '',
    agent: m.name,
    user: a[SESSION_KEYS.user] ?? '?',
    host: a[SESSION_KEYS.host] ?? '?',
    mode: mode === 'mirror' || mode === 'steal' || mode === 'off' ? mode : '?',
    ports: parsePorts(a[SESSION_KEYS.ports]),
    since: a[SESSION_KEYS.since] ?? (m.creationTimestamp ? new Date(m.creationTimestamp).toISOString() : ''),
  };
  if (container) s.ephemeral = true;
  if (a[SESSION_KEYS.kubeUser]) s.kubeUser = a[SESSION_KEYS.kubeUser];
  if (a[SESSION_KEYS.target]) s.target = a[SESSION_KEYS.target];
  if (a[SESSION_KEYS.pod]) s.pod = a[SESSION_KEYS.pod];
  if (wire) {
    s.wire = wire;
    s.filter = describeFilter(wire);
    if (a[SESSION_KEYS.filterPorts]) s.filterPorts = parsePorts(a[SESSION_KEYS.filterPorts]);
  }
  return s;
}

/** The filter a session applies on the target's `port` (http_filter.ports leaves other ports unfiltered). */
export function filterOn(s: Pick<ListedSession, 'wire' | 'filterPorts'>, port: number): WireFilter {
  if (s.wire && (!s.filterPorts || s.filterPorts.includes(port))) return s.wire;
  return { match: FilterMatch.none, rules: [] };
}

/** Every live session whose agent runs in `namespace` (ephemeral agents: in a pod of it), oldest first. */
export async function listSessions(kube: Kube, namespace: string): Promise<ListedSession[]> {
  const jobs = await call(kube, { verb: 'list', resource: 'jobs', group: 'batch', namespace }, () =>
    kube.batch.listNamespacedJob({ namespace, labelSelector: 'app.kubernetes.io/name=podlink-agent' }));
  const names = new Set(jobs.items.map(recordedPod).filter((p): p is string => p !== undefined));
  const pods = new Map<string, V1Pod>();
  await Promise.all([...names].map(async (name) => {
    try {
      pods.set(name, await kube.core.readNamespacedPod({ name, namespace }));
    } catch (err) {
      if (httpStatus(err) === 404) return; // the pod is gone, and its records with it
      throw apiError(err, kube, { verb: 'get', resource: 'pods', namespace, name });
    }
  }));
  const out: ListedSession[] = [];
  for (const j of jobs.items) {
    const s = sessionOf(j, pods);
    if (s) out.push(s);
  }
  return out.sort((a, b) => a.since.localeCompare(b.since) || a.agent.localeCompare(b.agent));
}

/** Records the target's ports the session has taken on its agent's Job or record (a merge patch of one annotation). */
export async function recordPorts(kube: Kube, namespace: string, job: string, ports: Iterable<number>): Promise<void> {
  const body = { metadata: { annotations: { [SESSION_KEYS.ports]: portList(ports) } } };
  try {
    await kube.batch.patchNamespacedJob({ name: job, namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  } catch (err) {
    // The session ended meanwhile and its Job is gone: nothing to record.
    if (httpStatus(err) === 404) return;
    throw apiError(err, kube, { verb: 'patch', resource: 'jobs', group: 'batch', namespace, name: job });
  }
}
