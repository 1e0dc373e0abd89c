/** `pod/NAME`: the pod itself. */
import { call, lsHint } from '../call.js';
import type { PodsOf } from './kind.js';

export const podsOfPod: PodsOf = async (kube, namespace, name) => {
  const pod = await call(kube, { verb: 'get', resource: 'pods', namespace, name }, () => kube.core.readNamespacedPod({ name, namespace }),
    `pod/${name} not found in namespace ${namespace}`, lsHint(namespace));
  return { pods: [pod] };
};
