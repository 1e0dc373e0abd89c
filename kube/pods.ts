/**
 * Pure choices about pods, shared by every target kind: which pod of a workload (a Running, Ready
 * pod that is not terminating — the oldest, then by name, so two runs pick the same one), which
 * container of that pod (the first that is not a known sidecar, unless one is named), and the
 * container's runtime and ID from its status.
 */
import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { KubeError } from './errors.js';

/**
 * Containers that meshes and platforms inject next to the app. Never the default choice; naming
 * one with `/container/NAME` still works.
 */
export const KNOWN_SIDECARS: readonly string[] = [
  'istio-proxy', 'istio-init', 'istio-validation',
  'linkerd-proxy', 'linkerd-init', 'linkerd-network-validator',
  'vault-agent', 'vault-agent-init',
  'envoy', 'envoy-sidecar', 'envoy-proxy', 'aws-appmesh-envoy',
  'consul-connect-envoy-sidecar', 'consul-dataplane',
  'kuma-sidecar', 'kuma-init',
  'daprd', 'dapr-sidecar',
  'cloudsql-proxy', 'cloud-sql-proxy',
  'podlink-agent',
];

export function isSidecar(container: string): boolean {
  return KNOWN_SIDECARS.includes(container);
}

export function isReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function created(pod: V1Pod): number {
  const t = pod.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
}

/** The ready pod to use, or undefined: oldest first, then by name. */
export function pickPod(pods: V1Pod[]): V1Pod | undefined {
  return pods
    .filter(isReady)
    .sort((a, b) => created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
}

/** What the pods are doing, for "no ready pod": `2 pods: 1 Pending, 1 Running but not ready`. */
export function podStates(pods: V1Pod[]): string {
  if (pods.length === 0) return 'no pods';
  const counts = new Map<string, number>();
  for (const p of pods) {
    let s = p.status?.phase ?? 'Unknown';
    if (p.metadata?.deletionTimestamp) s = 'Terminating';
    else if (s === 'Running' && !isReady(p)) s = 'Running but not ready';
    else if (s === 'Pending') {
      const waiting = p.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting?.reason;
      if (waiting) s = `Pending (${waiting})`;
    }
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const parts = [...counts].map(([s, n]) => `${n} ${s}`);
  return `${pods.length} pod${pods.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/**
 * The container to serve from: `wanted` when given (it must exist), else the first container
 * that is not a known sidecar, else the first container.
 */
export function pickContainer(pod: V1Pod, wanted: string | undefined, what: string): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (wanted !== undefined) {
    if (names.includes(wanted)) return wanted;
    throw new KubeError(
      'KUBE_CONTAINER_NOT_FOUND',
      `${what} has no container ${wanted}; its containers: ${names.join(', ') || 'none'}`,
      `pick one of them with /container/NAME`,
    );
  }
  const name = names.find((n) => !isSidecar(n)) ?? names[0];
  if (name === undefined) throw new KubeError('KUBE_CONTAINER_NOT_FOUND', `${what} has no containers`);
  return name;
}

/** `containerd://abc…` → { runtime: 'containerd', id: 'abc…' }; `cri-o://`, `docker://` likewise. */
/**
 * The ports of a container's plain-HTTP probes (liveness, readiness, startup; a named port looked up
 * in the container's ports), sorted: the agent leaves the kubelet's requests there to the app
 * (agent/incoming/probes.ts). HTTPS probes and probes sent to another host are left out.
 */
export function httpProbePorts(pod: V1Pod, container: string): number[] {
  const c = pod.spec?.containers.find((x) => x.name === container);
  const ports = new Set<number>();
  for (const probe of [c?.livenessProbe, c?.readinessProbe, c?.startupProbe]) {
    const get = probe?.httpGet;
    if (!get || get.host || (get.scheme ?? 'HTTP').toUpperCase() !== 'HTTP') continue;
    const port = typeof get.port === 'number' ? get.port : /^\d+$/.test(get.port) ? Number(get.port) : c?.ports?.find((p) => p.name === get.port)?.containerPort;
    if (port && port > 0 && port < 65536) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

export function splitContainerId(full: string): { runtime: string; id: string } {
  const i = full.indexOf('://');
  if (i < 0) return { runtime: 'unknown', id: full };
  return { runtime: full.slice(0, i), id: full.slice(i + 3) };
}

/** A LabelSelector as the `labelSelector` query string (`a=b,c in (d,e),!f`). */
export function selectorString(sel: V1LabelSelector | undefined): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in (${values})`); break;
      case 'NotIn': parts.push(`${e.key} notin (${values})`); break;
      case 'Exists': parts.push(e.key); break;
      case 'DoesNotExist': parts.push(`!${e.key}`); break;
      default: throw new KubeError('KUBE_API', `unknown label selector operator ${e.operator} on key ${e.key}`);
    }
  }
  return parts.join(',');
}
