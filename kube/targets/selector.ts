/** The pods matching a workload's label selector: what deployment, statefulset, … targets share. */
import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { call } from '../call.js';
import type { Kube } from '../client.js';
import { KubeError } from '../errors.js';
import { selectorString } from '../pods.js';

export async function podsBySelector(kube: Kube, namespace: string, selector: V1LabelSelector | undefined, what: string): Promise<V1Pod[]> {
  const labelSelector = selectorString(selector);
  if (!labelSelector) {
    throw new KubeError('KUBE_NO_READY_POD', `${what} in namespace ${namespace} has no pod selector, so it has no pods to pick from`, 'target one of its pods with pod/NAME');
  }
  const list = await call(kube, { verb: 'list', resource: 'pods', namespace }, () => kube.core.listNamespacedPod({ namespace, labelSelector }));
  return list.items;
}
