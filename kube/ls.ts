/**
 * `podlink ls`: everything that can be targeted, as target paths. Running pods (one line per
 * container when a pod has several), Deployments, StatefulSets, bare ReplicaSets (not owned by a
 * Deployment), Jobs with a running pod, CronJobs, Services with a selector, and Argo Rollouts when
 * the cluster has them. podlink's own agent pods and Jobs are left out.
 */
import type { V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { call } from './call.js';
import type { Kube } from './client.js';
import { ROLLOUT, rolloutsInstalled } from './targets/rollout.js';

export interface ListedTarget {
  namespace: string;
  /** e.g. `deployment/service-a`, `pod/meshed/container/app`. */
  path: string;
}

/** Order of kinds in the output. */
const KIND_ORDER = ['pod', 'deployment', 'statefulset', 'replicaset', 'job', 'cronjob', 'service', 'rollout'];

const isAgent = (m: V1ObjectMeta | undefined) => m?.labels?.['app.kubernetes.io/name'] === 'podlink-agent';

/** Target paths of one pod: `pod/NAME`, or `pod/NAME/container/C` per container. */
export function podPaths(pod: V1Pod): string[] {
  const name = pod.metadata?.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  return containers.length > 1 ? containers.map((c) => `pod/${name}/container/${c}`) : [`pod/${name}`];
}

export function sortTargets(list: ListedTarget[]): ListedTarget[] {
  const kindOf = (p: string) => KIND_ORDER.indexOf(p.slice(0, p.indexOf('/')));
  return list.sort((a, b) => a.namespace.localeCompare(b.namespace) || kindOf(a.path) - kindOf(b.path) || a.path.localeCompare(b.path));
}

/** Promise.all, but when several fail the first in list order is thrown. */
async function allInOrder<T extends readonly unknown[]>(ps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

export async function listTargets(kube: Kube, opts: { allNamespaces: boolean }): Promise<ListedTarget[]> {
  const all = opts.allNamespaces;
  const namespace = all ? undefined : kube.namespace;
  const site = (resource: string, group?: string) => ({ verb: 'list', resource, ...(namespace ? { namespace } : {}), ...(group ? { group } : {}) });
  const ns = namespace ?? '';
  const out: ListedTarget[] = [];
  const add = (meta: V1ObjectMeta | undefined, path: string) => out.push({ namespace: meta?.namespace ?? ns, path });

  // All at once; a failure is reported in this order (pods first), not whichever came back first.
  const [pods, deployments, statefulsets, replicasets, jobs, cronjobs, services, hasRollouts] = await allInOrder([
    call(kube, site('pods'), () => (all ? kube.core.listPodForAllNamespaces() : kube.core.listNamespacedPod({ namespace: ns }))),
    call(kube, site('deployments', 'apps'), () => (all ? kube.apps.listDeploymentForAllNamespaces() : kube.apps.listNamespacedDeployment({ namespace: ns }))),
    call(kube, site('statefulsets', 'apps'), () => (all ? kube.apps.listStatefulSetForAllNamespaces() : kube.apps.listNamespacedStatefulSet({ namespace: ns }))),
    call(kube, site('replicasets', 'apps'), () => (all ? kube.apps.listReplicaSetForAllNamespaces() : kube.apps.listNamespacedReplicaSet({ namespace: ns }))),
    call(kube, site('jobs', 'batch'), () => (all ? kube.batch.listJobForAllNamespaces() : kube.batch.listNamespacedJob({ namespace: ns }))),
    call(kube, site('cronjobs', 'batch'), () => (all ? kube.batch.listCronJobForAllNamespaces() : kube.batch.listNamespacedCronJob({ namespace: ns }))),
    call(kube, site('services'), () => (all ? kube.core.listServiceForAllNamespaces() : kube.core.listNamespacedService({ namespace: ns }))),
    rolloutsInstalled(kube),
  ] as const);

  for (const p of pods.items) {
    if (p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp || isAgent(p.metadata)) continue;
    for (const path of podPaths(p)) add(p.metadata, path);
  }
  for (const d of deployments.items) add(d.metadata, `deployment/${d.metadata?.name}`);
  for (const s of statefulsets.items) add(s.metadata, `statefulset/${s.metadata?.name}`);
  for (const r of replicasets.items) {
    if ((r.metadata?.ownerReferences ?? []).some((o) => o.controller)) continue;
    add(r.metadata, `replicaset/${r.metadata?.name}`);
  }
  for (const j of jobs.items) {
    if (!j.status?.active || isAgent(j.metadata)) continue;
    add(j.metadata, `job/${j.metadata?.name}`);
  }
  for (const c of cronjobs.items) add(c.metadata, `cronjob/${c.metadata?.name}`);
  for (const s of services.items) {
    if (!s.spec?.selector || Object.keys(s.spec.selector).length === 0) continue;
    add(s.metadata, `service/${s.metadata?.name}`);
  }
  if (hasRollouts) {
    const rollouts = (await call(kube, site('rollouts', ROLLOUT.group), () =>
      all ? kube.custom.listClusterCustomObject({ ...ROLLOUT }) : kube.custom.listNamespacedCustomObject({ ...ROLLOUT, namespace: ns }))) as { items?: { metadata?: V1ObjectMeta }[] };
    for (const r of rollouts.items ?? []) add(r.metadata, `rollout/${r.metadata?.name}`);
  }
  return sortTargets(out);
}
