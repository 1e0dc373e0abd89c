/**
 * The agent in a pod, reached through the API server's port-forward (kube/portforward.ts). Each open
 * is a new port-forward to the same pod and port: AgentLink opens again after a drop. While the agent
 * is still starting its port is closed, which the port-forward reports at once: AgentLink retries
 * until the start-up deadline. A pod that is gone (deleted, finished) ends the retries.
 */
import { deleteAgent } from '../kube/agent.js';
import { loadKube, type Kube } from '../kube/client.js';
import { KubeError } from '../kube/errors.js';
import { openPortForward } from '../kube/portforward.js';
import { logger } from '../common/log.js';
import type { AgentPodRef, AgentTransportSpec } from './control.js';
import type { AgentStream, Transport } from './transports.js';

const log = logger('intproxy');

type Spec = Extract<AgentTransportSpec, { kind: 'port-forward' }>;

/** Answers that another try cannot change: RBAC, a deleted pod, bad credentials. */
const FINAL = new Set<string>(['KUBE_FORBIDDEN', 'KUBE_NOT_FOUND', 'KUBE_UNAUTHORIZED']);

export class PortForwardTransport implements Transport {
  readonly reconnects = true;
  readonly describe: string;
  readonly gone = new Promise<string>(() => undefined);
  private kube: Kube | undefined;

  constructor(private readonly spec: Spec) {
    this.describe = `agent pod ${spec.namespace}/${spec.pod} port ${spec.port} (port-forward)`;
  }

  async open(): Promise<AgentStream> {
    this.kube ??= loadKube(this.spec.kube);
    try {
      const fwd = await openPortForward(this.kube, this.spec.namespace, this.spec.pod, this.spec.port);
      log.debug('port-forward', `to ${this.spec.namespace}/${this.spec.pod}:${this.spec.port} over ${fwd.protocol}`);
      return { input: fwd.input, output: fwd.output, close: () => fwd.close(), closed: fwd.closed };
    } catch (e) {
      // Only a closed port (the agent still starting) or a network blip is worth another try.
      if (e instanceof KubeError && FINAL.has(e.code)) throw Object.assign(e, { final: true });
      throw e;
    }
  }

  tail(): string {
    return '';
  }

  async stop(): Promise<void> {}
}

/** Delete the agent's pod when the CLI could not (it was killed). */
export async function deleteAgentPod(ref: AgentPodRef): Promise<void> {
  await deleteAgent(loadKube(ref.kube), { namespace: ref.namespace, pod: ref.pod, ephemeral: ref.ephemeral, ...(ref.job ? { job: ref.job } : {}) });
}
