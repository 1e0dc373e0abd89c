/**
 * `cronjob/NAME`: a ready pod of its most recent Job — the newest Job the CronJob controls (by
 * owner reference, so Jobs made with `kubectl create job --from=cronjob/NAME` count too).
 */
import type { V1Job } from '@kubernetes/client-node';
import { call, lsHint } from '../call.js';
import { KubeError } from '../errors.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

const time = (j: V1Job) => {
  const t = j.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
};

/** The newest of `jobs` owned by the CronJob with `uid`; ties go to the greater name. */
export function latestJobOf(jobs: V1Job[], uid: string): V1Job | undefined {
  return jobs
    .filter((j) => (j.metadata?.ownerReferences ?? []).some((o) => o.uid === uid && o.kind === 'CronJob'))
    .sort((a, b) => time(b) - time(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''))[0];
}

export const podsOfCronJob: PodsOf = async (kube, namespace, name) => {
  const cj = await call(kube, { verb: 'get', resource: 'cronjobs', namespace, name, group: 'batch' }, () => kube.batch.readNamespacedCronJob({ name, namespace }),
    `cronjob/${name} not found in namespace ${namespace}`, lsHint(namespace));
  const jobs = await call(kube, { verb: 'list', resource: 'jobs', namespace, group: 'batch' }, () => kube.batch.listNamespacedJob({ namespace }));
  const job = latestJobOf(jobs.items, cj.metadata?.uid ?? '');
  if (!job) {
    throw new KubeError(
      'KUBE_NO_READY_POD',
      `cronjob/${name} in namespace ${namespace} has no Job yet (schedule "${cj.spec?.schedule}"${cj.spec?.suspend ? ', suspended' : ''})`,
      `start one with \`kubectl -n ${namespace} create job --from=cronjob/${name} ${name}-manual\``,
    );
  }
  const jobName = job.metadata!.name!;
  return { pods: await podsBySelector(kube, namespace, job.spec?.selector, `job/${jobName}`), via: `job/${jobName}` };
};
