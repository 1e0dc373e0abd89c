/** `statefulset/NAME`: a ready pod matching the StatefulSet's selector. */
import { call, lsHint } from '../call.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

export const podsOfStatefulSet: PodsOf = async (kube, namespace, name) => {
  const s = await call(kube, { verb: 'get', resource: 'statefulsets', namespace, name, group: 'apps' }, () => kube.apps.readNamespacedStatefulSet({ name, namespace }),
    `statefulset/${name} not found in namespace ${namespace}`, lsHint(namespace));
  return { pods: await podsBySelector(kube, namespace, s.spec?.selector, `statefulset/${name}`) };
};
