/**
 * The agent's Kubernetes objects, built from AgentOptions with no I/O: the Job (targeted: on the
 * target's node with hostPID; targetless: a plain pod wherever it is scheduled) and the ephemeral
 * container (agent.ephemeral). Kept pure so unit tests can read every field.
 *
 * Why each non-default field:
 *  - `nodeName` (targeted): the agent must run on the target's node; setting it skips the scheduler.
 *  - `hostPID` (targeted): the agent finds the target container's processes in /proc by cgroup.
 *  - `runAsUser: 0`, capabilities `drop: [ALL]` + only `opts.capabilities` (unless privileged):
 *    least privilege; the lead's agent decides which it needs (setns, ptrace, reading /proc/PID/root).
 *  - `automountServiceAccountToken: false`: the agent never talks to the API server.
 *  - `enableServiceLinks: false`: no `*_SERVICE_HOST` variables, the agent's env stays its own.
 *  - `terminationGracePeriodSeconds: 1`: the agent exits on SIGTERM; deletion must be quick.
 *  - `terminationMessagePolicy: FallbackToLogsOnError`: a crashing agent's last log lines show up
 *    in the pod status, so startAgent can report them without `pods/log` permission.
 *  - mesh annotations: an injected sidecar would delay the start and proxy the agent's own traffic.
 *  - `backoffLimit: 0`, `restartPolicy: Never`: a failed agent is reported, not retried.
 *  - `ttlSecondsAfterFinished` / `activeDeadlineSeconds`: the Job cleans itself up even when the
 *    laptop vanished (the agent also exits by itself once its link is gone).
 *
 * An ephemeral agent's session record (recordJob) is a Job too, one that never runs anything: created
 * suspended, so `podlink sessions`, the early conflict check and the ports' patches read and write it
 * as they do an agent's Job, with no permission besides the Job's (docs/ARCHITECTURE.md, *What the
 * cluster shows*). It is owned by the target pod: whatever happens, it goes with the pod at the latest.
 */
import { randomBytes } from 'node:crypto';
import type { V1Container, V1EphemeralContainer, V1Job, V1SecurityContext, V1Toleration } from '@kubernetes/client-node';
import { toLabelValue } from './names.js';
import { SESSION_KEYS, sessionAnnotations, type SessionFacts } from './sessions.js';
import type { PodTarget } from './target.js';

export type Toleration = V1Toleration;

export interface AgentOptions {
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets: string[];
  /** agent.namespace; default: the target's namespace, targetless: kube.namespace. */
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tolerations: Toleration[];
  /** Only for targetless agents (a targeted agent runs on the target's node). */
  nodeSelector: Record<string, string>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  privileged: boolean;
  ephemeral: boolean;
  /** Added after dropping ALL, e.g. ['SYS_ADMIN', 'SYS_PTRACE']; ignored when privileged or targetless. */
  capabilities: string[];
  serviceAccount?: string;
  priorityClass?: string;
  /** Job ttlSecondsAfterFinished (agent.ttl). */
  ttlSeconds: number;
  /** Job activeDeadlineSeconds: the backstop for an agent that never exits. */
  activeDeadlineSeconds: number;
  /** agent.startup_timeout, in ms: how long startAgent waits for the container to run. */
  startupTimeoutMs: number;
  /** The agent's arguments; the image's entrypoint runs the agent. */
  args: string[];
  env: Record<string, string>;
  /** TCP port the agent listens on inside its pod (containerPort; the port-forward's target). */
  port: number;
  /** Recorded on the Job and its pod: label podlink.dev/session, the annotations of kube/sessions.ts. */
  session: SessionFacts;
}

/** Name of the agent container, in the Job's pod and as the base of ephemeral container names. */
export const AGENT_CONTAINER = 'podlink-agent';
/** Label on every agent pod (and Job): the agent's name, to watch exactly its pod. */
export const AGENT_LABEL = 'podlink.dev/agent';
export const SESSION_LABEL = 'podlink.dev/session';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // Kubernetes' generateName alphabet: no vowels, no look-alikes

/** `podlink-agent-` + 5 random characters. */
export function agentName(random: (n: number) => Buffer = randomBytes): string {
  const bytes = random(5);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return `${AGENT_CONTAINER}-${s}`;
}

export function agentLabels(name: string, opts: AgentOptions): Record<string, string> {
  return {
    ...opts.labels,
    'app.kubernetes.io/name': 'podlink-agent',
    'app.kubernetes.io/managed-by': 'podlink',
    [AGENT_LABEL]: name,
    [SESSION_LABEL]: toLabelValue(opts.session.id),
  };
}

export function agentAnnotations(opts: AgentOptions): Record<string, string> {
  const a: Record<string, string> = {
    ...opts.annotations,
    'sidecar.istio.io/inject': 'false',
    'linkerd.io/inject': 'disabled',
    ...sessionAnnotations(opts.session),
  };
  return a;
}

function envList(env: Record<string, string>) {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** Targeted: root with only the listed capabilities (or privileged). Targetless: nothing extra. */
export function agentSecurityContext(opts: AgentOptions, targeted: boolean): V1SecurityContext {
  if (opts.privileged) return { privileged: true, runAsUser: 0 };
  if (!targeted) return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
  return { runAsUser: 0, capabilities: { drop: ['ALL'], add: [...opts.capabilities] } };
}

export function agentContainer(opts: AgentOptions, targeted: boolean): V1Container {
  const c: V1Container = {
    name: AGENT_CONTAINER,
    image: opts.image,
    imagePullPolicy: opts.imagePullPolicy,
    args: [...opts.args],
    env: envList(opts.env),
    ports: [{ name: 'link', containerPort: opts.port, protocol: 'TCP' }],
    resources: { requests: { ...opts.resources.requests }, limits: { ...opts.resources.limits } },
    securityContext: agentSecurityContext(opts, targeted),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  return c;
}

/** The agent Job: on `target`'s node with hostPID, or (target undefined) a plain targetless pod. */
export function agentJob(name: string, namespace: string, target: PodTarget | undefined, opts: AgentOptions): V1Job {
  const labels = agentLabels(name, opts);
  const annotations = agentAnnotations(opts);
  const podSpec: NonNullable<NonNullable<V1Job['spec']>['template']['spec']> = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 1,
    containers: [agentContainer(opts, target !== undefined)],
  };
  if (target) {
    podSpec.nodeName = target.nodeName;
    podSpec.hostPID = true;
  } else if (Object.keys(opts.nodeSelector).length) {
    podSpec.nodeSelector = { ...opts.nodeSelector };
  }
  if (opts.tolerations.length) podSpec.tolerations = opts.tolerations.map((t) => ({ ...t }));
  if (opts.imagePullSecrets.length) podSpec.imagePullSecrets = opts.imagePullSecrets.map((n) => ({ name: n }));
  if (opts.serviceAccount) podSpec.serviceAccountName = opts.serviceAccount;
  if (opts.priorityClass) podSpec.priorityClassName = opts.priorityClass;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels, annotations },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: opts.ttlSeconds,
      activeDeadlineSeconds: opts.activeDeadlineSeconds,
      template: { metadata: { labels, annotations }, spec: podSpec },
    },
  };
}

/**
 * The session record of the ephemeral agent `name` (kube/sessions.ts): a Job of the same name in the
 * target's namespace with the session's annotations and `podlink.dev/ephemeral-container`, which
 * counts only while that container runs. `suspend` keeps the Job from ever making a pod; were it
 * resumed, its one harmless container (Pod Security `restricted`) would be ended after 1 s.
 */
export function recordJob(name: string, target: PodTarget, opts: AgentOptions): V1Job {
  const labels = agentLabels(name, opts);
  // The pod is the target's whatever the facts say: the record counts by its container there.
  const annotations = { ...agentAnnotations(opts), [SESSION_KEYS.pod]: target.pod, [SESSION_KEYS.ephemeralContainer]: name };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: target.namespace,
      labels,
      annotations,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: target.pod, uid: target.uid }],
    },
    spec: {
      suspend: true,
      backoffLimit: 0,
      activeDeadlineSeconds: 1,
      ttlSecondsAfterFinished: opts.ttlSeconds,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [{
            name: 'record',
            image: opts.image,
            command: ['true'],
            securityContext: { runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
          }],
        },
      },
    },
  };
}

/**
 * The agent as an ephemeral container of the target pod, sharing the target container's process
 * namespace (`targetContainerName`). Ephemeral containers take no ports or resources; the agent
 * listens on `opts.port` in the pod's network namespace, which must be free there.
 */
export function ephemeralAgentContainer(name: string, target: PodTarget, opts: AgentOptions): V1EphemeralContainer {
  return {
    name,
    image: opts.image,
    imagePullPolicy: opts.imagePullPolicy,
    args: [...opts.args],
    env: envList(opts.env),
    securityContext: agentSecurityContext(opts, true),
    targetContainerName: target.container,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}
