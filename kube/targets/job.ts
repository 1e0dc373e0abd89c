/** `job/NAME`: a ready pod of the Job (its selector is the controller-uid label). */
import { call, lsHint } from '../call.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

export const podsOfJob: PodsOf = async (kube, namespace, name) => {
  const j = await call(kube, { verb: 'get', resource: 'jobs', namespace, name, group: 'batch' }, () => kube.batch.readNamespacedJob({ name, namespace }),
    `job/${name} not found in namespace ${namespace}`, lsHint(namespace));
  return { pods: await podsBySelector(kube, namespace, j.spec?.selector, `job/${name}`) };
};
