/** `replicaset/NAME`: a ready pod matching the ReplicaSet's selector. */
import { call, lsHint } from '../call.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

export const podsOfReplicaSet: PodsOf = async (kube, namespace, name) => {
  const r = await call(kube, { verb: 'get', resource: 'replicasets', namespace, name, group: 'apps' }, () => kube.apps.readNamespacedReplicaSet({ name, namespace }),
    `replicaset/${name} not found in namespace ${namespace}`, lsHint(namespace));
  return { pods: await podsBySelector(kube, namespace, r.spec?.selector, `replicaset/${name}`) };
};
