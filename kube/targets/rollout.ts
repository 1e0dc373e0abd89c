/**
 * `rollout/NAME`: an Argo Rollout (argoproj.io/v1alpha1), read through CustomObjectsApi. Its pods
 * match `spec.selector`, or, for a Rollout that points at a Deployment (`spec.workloadRef`), that
 * Deployment's selector. Whether Argo Rollouts is installed is asked of API discovery, which every
 * authenticated user may read.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';
import { call, lsHint } from '../call.js';
import type { Kube } from '../client.js';
import { KubeError, apiError, httpStatus } from '../errors.js';
import type { PodsOf } from './kind.js';
import { podsBySelector } from './selector.js';

export const ROLLOUT = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;

/** True when the cluster serves argoproj.io/v1alpha1 rollouts. */
export async function rolloutsInstalled(kube: Kube): Promise<boolean> {
  const groups = await call(kube, { verb: 'get', resource: 'API discovery (/apis)' }, () => kube.apis.getAPIVersions());
  return groups.groups.some((g) => g.name === ROLLOUT.group && g.versions.some((v) => v.version === ROLLOUT.version));
}

export function notInstalled(kube: Kube): KubeError {
  return new KubeError(
    'KUBE_ROLLOUTS_NOT_INSTALLED',
    `Argo Rollouts is not installed in this cluster (context ${kube.context}): it serves no ${ROLLOUT.group}/${ROLLOUT.version} rollouts`,
    'target the rollout\'s pods another way, e.g. pod/NAME or service/NAME',
  );
}

interface RolloutObject {
  spec?: { selector?: V1LabelSelector; workloadRef?: { kind?: string; name?: string } };
}

export const podsOfRollout: PodsOf = async (kube, namespace, name) => {
  const site = { verb: 'get', resource: 'rollouts', namespace, name, group: ROLLOUT.group };
  let ro: RolloutObject;
  try {
    ro = (await kube.custom.getNamespacedCustomObject({ ...ROLLOUT, namespace, name })) as RolloutObject;
  } catch (err) {
    // A 404 is either "no such rollout" or "no such resource type": discovery tells them apart.
    if (httpStatus(err) === 404 && !(await rolloutsInstalled(kube))) throw notInstalled(kube);
    throw apiError(err, kube, site, `rollout/${name} not found in namespace ${namespace}`, lsHint(namespace));
  }
  let selector = ro.spec?.selector;
  const ref = ro.spec?.workloadRef;
  if (!selector && ref?.kind === 'Deployment' && ref.name) {
    const refName = ref.name;
    const d = await call(kube, { verb: 'get', resource: 'deployments', namespace, name: refName, group: 'apps' }, () => kube.apps.readNamespacedDeployment({ name: refName, namespace }),
      `rollout/${name} refers to deployment/${refName}, which is not found in namespace ${namespace}`);
    selector = d.spec?.selector;
  }
  return { pods: await podsBySelector(kube, namespace, selector, `rollout/${name}`) };
};
