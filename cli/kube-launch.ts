/**
 * Starting a session on a Kubernetes cluster (a pod or workload target, or targetless): resolve the
 * target to one pod and container, start the agent in a short-lived Job on that pod's node (or as an
 * ephemeral container), then let the intproxy reach it through the API server's port-forward.
 *
 * The agent's pod is deleted when the session ends, on every way out: by the CLI after the user's
 * process exits or a start-up step fails, by the intproxy if the CLI was killed, and by the agent
 * itself exiting once its link has been gone for its grace period (the Job's TTL then removes it).
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { PodlinkConfig } from '../config/load.js';
import { defaultAgentImage } from '../agent/image.js';
import type { AgentPodRef } from '../intproxy/control.js';
import { deleteAgent, startAgent, type AgentOptions, type AgentPod } from '../kube/agent.js';
import { loadKube, type Kube, type KubeSelection } from '../kube/client.js';
import { resolveTarget, type PodTarget } from '../kube/target.js';
import type { IncomingSettings } from '../intproxy/incoming-settings.js';
import type { SessionFacts } from '../kube/sessions.js';
import { PodlinkError } from './errors.js';
import { heldPortConflict, sessionsAround } from './kube-sessions.js';
import { sessionOwner } from './owner.js';
import type { Step } from './progress.js';
import { Session, type SessionOptions } from './session.js';

/** The agent's backstop lifetime: Kubernetes ends the Job after a day whatever happens. */
const ACTIVE_DEADLINE_S = 24 * 3600;
/** Seconds the agent waits for its intproxy to come back after the link drops (agent.communication_timeout). */
export const DEFAULT_GRACE_S = 15;

export interface KubeCtx {
  session?: Session;
  kube?: Kube;
  target?: PodTarget;
  agentPod?: AgentPod;
  /** The agent pod's deletion, once started (it happens once, whoever asks first). */
  deleting?: Promise<void>;
  /** The target's ports this session took, as recorded on its Job (cli/kube-sessions.ts). */
  ports?: Set<number>;
  recording?: Promise<void>;
}

/**
 * Capabilities the agent needs, and why (docs/ARCHITECTURE.md): SYS_ADMIN to enter the target's
 * network namespace (setns), SYS_PTRACE to open another container's /proc/PID/{ns,root,environ},
 * DAC_READ_SEARCH to read its files whoever owns them, DAC_OVERRIDE only when files are written back;
 * with incoming traffic, NET_ADMIN for steal's nftables redirect and NET_RAW for mirror's packet
 * capture (only the one the mode needs). Targetless needs none.
 */
export function agentCapabilities(config: PodlinkConfig, targeted: boolean): string[] {
  if (!targeted) return [];
  const caps = ['SYS_ADMIN', 'SYS_PTRACE', 'DAC_READ_SEARCH'];
  if (config.feature.fs.mode === 'write' || config.feature.fs.read_write.length > 0) caps.push('DAC_OVERRIDE');
  const incoming = config.feature.network.incoming.mode;
  if (incoming === 'steal') caps.push('NET_ADMIN');
  if (incoming === 'mirror') caps.push('NET_RAW');
  return caps.filter((c) => !config.agent.disabled_capabilities.includes(c as never));
}

export function kubeSelection(config: PodlinkConfig): KubeSelection {
  const sel: KubeSelection = {};
  if (config.kubeconfig !== undefined) sel.kubeconfig = config.kubeconfig;
  if (config.kube_context !== undefined) sel.context = config.kube_context;
  if (config.target.namespace !== undefined) sel.namespace = config.target.namespace;
  return sel;
}

function agentOptions(config: PodlinkConfig, kube: Kube, target: PodTarget | undefined, token: string, port: number, graceS: number, incoming: IncomingSettings | undefined): AgentOptions {
  const a = config.agent;
  const session: SessionFacts = { id: token.slice(0, 12), ...sessionOwner(), kubeUser: kube.user, since: Date.now() };
  if (target) {
    session.target = config.target.path!;
    session.pod = target.pod;
    session.incoming = incoming ? { mode: incoming.mode, filter: incoming.filter, ...(incoming.filterPorts ? { filterPorts: incoming.filterPorts } : {}) } : { mode: 'off' };
  } else {
    session.incoming = { mode: 'off' }; // targetless: there is no pod whose traffic it could take
  }
  const opts: AgentOptions = {
    image: a.image ?? defaultAgentImage(),
    imagePullPolicy: a.image_pull_policy,
    imagePullSecrets: a.image_pull_secrets,
    labels: a.labels,
    annotations: a.annotations,
    tolerations: a.tolerations,
    nodeSelector: a.node_selector,
    resources: a.resources,
    privileged: a.privileged,
    ephemeral: a.ephemeral,
    capabilities: agentCapabilities(config, target !== undefined),
    ttlSeconds: a.ttl,
    activeDeadlineSeconds: ACTIVE_DEADLINE_S,
    startupTimeoutMs: a.startup_timeout * 1000,
    args: ['--listen', String(port), ...(target ? ['--container-id', target.containerId] : []), '--grace', String(graceS)],
    env: { PODLINK_AGENT_TOKEN: token, ...(target?.probePorts.length ? { PODLINK_PROBE_PORTS: target.probePorts.join(',') } : {}) },
    port,
    session,
  };
  if (a.namespace !== undefined) opts.namespace = a.namespace;
  if (a.service_account !== undefined) opts.serviceAccount = a.service_account;
  if (a.priority_class !== undefined) opts.priorityClass = a.priority_class;
  return opts;
}

/** The start-up steps of a cluster session; they leave `ctx.session` running. */
export function kubeSteps(config: PodlinkConfig, session: SessionOptions, abort: AbortSignal): Step<KubeCtx>[] {
  const path = config.target.path;
  const sel = kubeSelection(config);
  const token = randomBytes(24).toString('hex');
  const graceS = config.agent.communication_timeout ?? DEFAULT_GRACE_S;
  // The agent listens on loopback of its own pod; in the target pod (ephemeral) a random high port
  // keeps clear of the app's.
  const port = randomInt(20_000, 60_000);
  let deadline = 0;
  return [
    {
      id: 'target',
      title: path ? `Resolving target ${path}` : 'Connecting to the cluster (targetless)',
      run: async (c, done) => {
        c.kube = loadKube(sel);
        if (path) {
          c.target = await resolveTarget(c.kube, path);
          if (session.incoming?.mode === 'steal') {
            // Agent Jobs are in agent.namespace; ephemeral agents' records in the target's.
            const others = await sessionsAround(c.kube, [config.agent.namespace ?? c.target.namespace, c.target.namespace]);
            const why = heldPortConflict(session.incoming, others, c.target.pod);
            if (why) throw new PodlinkError('port_held', why, `nothing was started; \`podlink sessions -t ${path}\` lists who is on the target`);
          }
          done(`Target ${c.target.describe}`);
        } else {
          done(`Targetless: the agent runs in namespace ${config.agent.namespace ?? c.kube.namespace} (context ${c.kube.context})`);
        }
      },
    },
    {
      id: 'agent-pod',
      title: 'Starting the agent pod',
      run: async (c, done, note) => {
        deadline = Date.now() + config.agent.startup_timeout * 1000;
        const opts = agentOptions(config, c.kube!, c.target, token, port, graceS, session.incoming);
        c.agentPod = await startAgent(c.kube!, c.target, opts, { onCreated: (ref) => (c.agentPod = ref), onProgress: note, signal: abort });
        const where = c.agentPod.ephemeral ? `ephemeral container ${c.agentPod.container} in pod ${c.agentPod.pod}` : `pod ${c.agentPod.pod}`;
        done(`Agent ${where} running on ${c.agentPod.nodeName}`);
      },
    },
    {
      id: 'agent-ready',
      title: 'Connecting to the agent through the port-forward',
      run: async (c, done) => {
        const pod = c.agentPod!;
        const agentPod: AgentPodRef = { kube: sel, namespace: pod.namespace, pod: pod.pod, ephemeral: pod.ephemeral, ...(pod.job ? { job: pod.job } : {}) };
        c.session = await Session.start(
          { kind: 'port-forward', kube: sel, namespace: pod.namespace, pod: pod.pod, port },
          // agent.startup_timeout covers the pod's start and the first answer together.
          { ...session, startupTimeoutMs: Math.max(2000, deadline - Date.now()), token, reconnectGraceMs: graceS * 1000, agentPod },
          abort,
        );
        done(`Agent ready (podlink ${c.session.agentBuild})`);
      },
    },
  ];
}

/** Delete the agent's pod (after the session, or when start-up failed half way). Never throws. */
export async function cleanupKube(ctx: KubeCtx, warn: (line: string) => void): Promise<void> {
  const pod = ctx.agentPod;
  if (!ctx.kube || !pod) return;
  ctx.deleting ??= deleteAgent(ctx.kube, pod).catch((e: Error) =>
    warn(`podlink: could not delete the agent pod ${pod.namespace}/${pod.pod}: ${e.message} (the agent exits on its own once podlink is gone, and its Job then expires)`),
  );
  await ctx.deleting;
}
