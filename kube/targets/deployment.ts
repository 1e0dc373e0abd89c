/** `deployment/NAME`: a ready pod matching the Deployment's selector (any of its ReplicaSets). */
import { call, lsHint } from '../call.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

export const podsOfDeployment: PodsOf = async (kube, namespace, name) => {
  const d = await call(kube, { verb: 'get', resource: 'deployments', namespace, name, group: 'apps' }, () => kube.apps.readNamespacedDeployment({ name, namespace }),
    `deployment/${name} not found in namespace ${namespace}`, lsHint(namespace));
  return { pods: await podsBySelector(kube, namespace, d.spec?.selector, `deployment/${name}`) };
};
