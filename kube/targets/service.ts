/** `service/NAME`: a ready pod behind the Service's selector. */
import { call, lsHint } from '../call.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

export const podsOfService: PodsOf = async (kube, namespace, name) => {
  const s = await call(kube, { verb: 'get', resource: 'services', namespace, name }, () => kube.core.readNamespacedService({ name, namespace }),
    `service/${name} not found in namespace ${namespace}`, lsHint(namespace));
  return { pods: await podsBySelector(kube, namespace, s.spec?.selector ? { matchLabels: s.spec.selector } : undefined, `service/${name}`) };
};
