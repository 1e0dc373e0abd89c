/**
 * What the agent's pod status and events say, with no I/O: running, hopeless (fail now, with the
 * one line to print), or still starting (with a short text for progress and for the timeout line).
 * startAgent (kube/agent.ts) feeds it every pod and event it watches.
 */
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { KubeError } from './errors.js';

export type AgentState =
  | { state: 'running' }
  | { state: 'failed'; error: KubeError }
  | { state: 'starting'; text: string };

/** Waiting reasons after which the image will not come: fail at once. */
export const PULL_ERRORS = ['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'RegistryUnavailable', 'SignatureValidationFailed'];
/** Waiting reasons after which the container will not start. */
export const CREATE_ERRORS = ['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff', 'PreCreateHookError', 'PreStartHookError'];

export const IMAGE_HINT = 'build the agent image, push it to a registry the cluster can pull from and set agent.image to it (agent.image_pull_secrets for a private registry)';

const oneLine = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

export interface AgentWhere {
  namespace: string;
  pod: string;
  container: string;
  image: string;
}

/** The container's status: in the pod's containers, or its ephemeral containers. */
export function containerStatus(pod: V1Pod, container: string, ephemeral: boolean): V1ContainerStatus | undefined {
  const list = ephemeral ? pod.status?.ephemeralContainerStatuses : pod.status?.containerStatuses;
  return list?.find((c) => c.name === container);
}

function podRef(w: AgentWhere): string {
  return `${w.namespace}/${w.pod}`;
}

export function agentState(pod: V1Pod, w: AgentWhere, ephemeral: boolean): AgentState {
  const cs = containerStatus(pod, w.container, ephemeral);
  if (cs?.state?.running) return { state: 'running' };
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && PULL_ERRORS.includes(waiting.reason)) {
    return {
      state: 'failed',
      error: new KubeError('KUBE_AGENT_IMAGE', `cannot pull the agent image ${w.image} for pod ${podRef(w)}: ${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ''}`, IMAGE_HINT),
    };
  }
  if (waiting?.reason && CREATE_ERRORS.includes(waiting.reason)) {
    return {
      state: 'failed',
      error: new KubeError('KUBE_AGENT_FAILED', `the agent container of pod ${podRef(w)} (image ${w.image}) cannot start: ${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ''}`,
        `see \`kubectl -n ${w.namespace} describe pod ${w.pod}\``),
    };
  }
  const term = cs?.state?.terminated;
  if (term) {
    const why = [term.reason, term.exitCode !== undefined ? `exit code ${term.exitCode}` : undefined].filter(Boolean).join(', ');
    return {
      state: 'failed',
      error: new KubeError('KUBE_AGENT_FAILED', `the agent container of pod ${podRef(w)} (image ${w.image}) exited before it was ready (${why})${term.message ? `: ${oneLine(term.message).slice(-300)}` : ''}`,
        'check that agent.image is a podlink agent of this version'),
    };
  }
  if (!ephemeral && pod.status?.phase === 'Failed') {
    return {
      state: 'failed',
      error: new KubeError('KUBE_AGENT_FAILED', `the agent pod ${podRef(w)} failed: ${pod.status.reason ?? 'Failed'}${pod.status.message ? `: ${oneLine(pod.status.message)}` : ''}`,
        `see \`kubectl -n ${w.namespace} describe pod ${w.pod}\``),
    };
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable) return { state: 'failed', error: unschedulableError(w, unschedulable.message) };
  if (pod.metadata?.deletionTimestamp && !ephemeral) {
    return { state: 'failed', error: new KubeError('KUBE_AGENT_FAILED', `the agent pod ${podRef(w)} is being deleted before it ran`, 'something else deleted it (a policy, a controller, a user); try again') };
  }
  return { state: 'starting', text: startingText(pod, cs) };
}

function unschedulableError(w: AgentWhere, message: string | undefined): KubeError {
  return new KubeError('KUBE_AGENT_FAILED', `the agent pod ${podRef(w)} cannot be scheduled: ${oneLine(message) || 'Unschedulable'}`,
    'check agent.node_selector, agent.tolerations and agent.resources against the cluster\'s nodes');
}

/** `Pending (ContainerCreating)`, `Pending, not scheduled yet`: the pod's last state, short. */
export function startingText(pod: V1Pod, cs: V1ContainerStatus | undefined): string {
  const phase = pod.status?.phase ?? 'Pending';
  const waiting = cs?.state?.waiting;
  if (waiting?.reason) return `${phase} (${waiting.reason}${waiting.message ? `: ${oneLine(waiting.message)}` : ''})`;
  if (!pod.spec?.nodeName) return `${phase}, not scheduled yet`;
  if (!cs) return `${phase}, container not created yet`;
  return phase;
}

/**
 * What an event about the agent's Job or pod means: a failure (FailedCreate on the Job, e.g. Pod
 * Security or a quota; FailedScheduling on the pod), progress text, or nothing.
 */
export function eventMeaning(ev: CoreV1Event, w: AgentWhere & { job?: string }): { error?: KubeError; progress?: string } {
  const reason = ev.reason ?? '';
  const kind = ev.involvedObject?.kind;
  if (kind === 'Job' && reason === 'FailedCreate') {
    return {
      error: new KubeError('KUBE_AGENT_FAILED', `Kubernetes cannot create the agent pod of job ${w.namespace}/${w.job ?? ev.involvedObject?.name}: ${oneLine(ev.message)}`,
        /PodSecurity|violates/.test(ev.message ?? '')
          ? 'the namespace\'s Pod Security level forbids the agent (hostPID, capabilities); run it in another namespace with agent.namespace, or ask for an exemption'
          : `see \`kubectl -n ${w.namespace} describe job ${w.job ?? ev.involvedObject?.name}\``),
    };
  }
  if (kind === 'Pod' && reason === 'FailedScheduling') return { error: unschedulableError(w, ev.message) };
  if (kind === 'Pod' && reason === 'Pulling') return { progress: `pulling image ${w.image}` };
  if (kind === 'Pod' && reason === 'Pulled') return { progress: `image ${w.image} ready` };
  if (kind === 'Pod' && reason === 'Scheduled') return { progress: `agent pod ${w.pod} scheduled` };
  return {};
}
