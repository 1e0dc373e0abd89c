/**
 * Target resolution: a normalised target path (config/target.ts) → the one pod and container the
 * agent serves from. Each kind lives in kube/targets/<kind>.ts and only says which pods the target
 * stands for; the choice of pod and container is the same for all (kube/pods.ts).
 *
 *   pod/NAME[/container/C]        the pod
 *   deployment|statefulset|replicaset|job|rollout/NAME   a ready pod matching its selector
 *   cronjob/NAME                  a ready pod of its most recent Job
 *   service/NAME                  a ready pod behind its selector
 *   NAME                          pod/NAME
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from './client.js';
import { KubeError } from './errors.js';
import { objectNameProblem } from './names.js';
import { httpProbePorts, pickContainer, pickPod, podStates, splitContainerId } from './pods.js';
import { podsOfCronJob } from './targets/cronjob.js';
import { podsOfDeployment } from './targets/deployment.js';
import { podsOfJob } from './targets/job.js';
import type { PodsOf } from './targets/kind.js';
import { podsOfPod } from './targets/pod.js';
import { podsOfReplicaSet } from './targets/replicaset.js';
import { podsOfRollout } from './targets/rollout.js';
import { podsOfService } from './targets/service.js';
import { podsOfStatefulSet } from './targets/statefulset.js';

export interface PodTarget {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  /** Without the `containerd://` prefix. */
  containerId: string;
  /** `containerd`, `cri-o`, `docker`: the prefix of the status's containerID. */
  runtime: string;
  nodeName: string;
  podIP: string;
  /** The ports the kubelet probes over plain HTTP (kube/pods.ts httpProbePorts). */
  probePorts: number[];
  /** The path as resolved, `kind/name` (container part dropped), e.g. `deployment/service-a`. */
  path: string;
  /** e.g. `deployment/service-a → pod/service-a-7d9f…/container/app`. */
  describe: string;
}

export const TARGET_KINDS: Record<string, PodsOf> = {
  pod: podsOfPod,
  deployment: podsOfDeployment,
  statefulset: podsOfStatefulSet,
  replicaset: podsOfReplicaSet,
  job: podsOfJob,
  cronjob: podsOfCronJob,
  service: podsOfService,
  rollout: podsOfRollout,
};

/** `kind/name[/container/c]` (or a bare `name` = a pod) split into its parts. */
export function parsePath(path: string): { kind: string; name: string; container?: string } {
  const parts = path.split('/');
  if (parts.length === 1) parts.unshift('pod');
  const [kind, name, word, container] = parts as [string, string, string?, string?];
  const ok = TARGET_KINDS[kind] && name && (parts.length === 2 || (parts.length === 4 && word === 'container' && container));
  if (!ok) {
    throw new KubeError('KUBE_NOT_FOUND', `\`${path}\` is not a Kubernetes target; write kind/NAME[/container/C] with kind one of ${Object.keys(TARGET_KINDS).join(', ')}`);
  }
  const problem = objectNameProblem(name);
  if (problem) throw new KubeError('KUBE_NOT_FOUND', `\`${path}\`: the ${kind} name ${problem}`);
  return container !== undefined ? { kind, name, container } : { kind, name };
}

/** The PodTarget for `pod` once chosen: container, its ID and runtime from the pod's status. */
export function podTarget(pod: V1Pod, wanted: string | undefined, path: string, via?: string): PodTarget {
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace!;
  const container = pickContainer(pod, wanted, `pod/${name} in namespace ${namespace}`);
  const status = (pod.status?.containerStatuses ?? []).find((c) => c.name === container);
  if (!status?.containerID || !status.state?.running) {
    throw new KubeError('KUBE_NO_READY_POD', `container ${container} of pod/${name} in namespace ${namespace} is not running${status?.state?.waiting?.reason ? ` (${status.state.waiting.reason})` : ''}`,
      'wait until it runs, or pick another container with /container/NAME');
  }
  const { runtime, id } = splitContainerId(status.containerID);
  const chain = [path, ...(via ? [via] : [])].filter((p) => !p.startsWith('pod/'));
  return {
    namespace,
    pod: name,
    uid: pod.metadata!.uid!,
    container,
    containerId: id,
    runtime,
    nodeName: pod.spec?.nodeName ?? '',
    podIP: pod.status?.podIP ?? '',
    probePorts: httpProbePorts(pod, container),
    path,
    describe: [...chain, `pod/${name}/container/${container}`].join(' → '),
  };
}

export async function resolveTarget(kube: Kube, path: string): Promise<PodTarget> {
  const { kind, name, container } = parsePath(path);
  const namespace = kube.namespace;
  const { pods, via } = await TARGET_KINDS[kind]!(kube, namespace, name);
  const pod = pickPod(pods);
  if (!pod) {
    const what = `${kind}/${name}${via ? ` (${via})` : ''} in namespace ${namespace}`;
    throw new KubeError(
      'KUBE_NO_READY_POD',
      kind === 'pod' ? `${what} is not ready: ${podStates(pods)}` : `${what} has no ready pod: ${podStates(pods)}`,
      `check \`kubectl -n ${namespace} get pods\`; podlink needs a Running, Ready pod`,
    );
  }
  return podTarget(pod, container, `${kind}/${name}`, via);
}
