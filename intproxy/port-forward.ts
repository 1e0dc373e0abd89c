/** The agent in a pod, through the API server's port-forward (filled in with kube/). */
import type { AgentPodRef, AgentTransportSpec } from './control.js';
import type { AgentStream, Transport } from './transports.js';

export class PortForwardTransport implements Transport {
  readonly reconnects = true;
  readonly describe: string;
  readonly gone = new Promise<string>(() => undefined);
  constructor(private readonly spec: Extract<AgentTransportSpec, { kind: 'port-forward' }>) {
    this.describe = `agent pod ${spec.namespace}/${spec.pod}`;
  }
  async open(): Promise<AgentStream> {
    throw Object.assign(new Error(`port-forward to ${this.spec.pod} is not wired yet`), { final: true });
  }
  tail(): string {
    return '';
  }
  async stop(): Promise<void> {}
}

export async function deleteAgentPod(ref: AgentPodRef): Promise<void> {
  throw new Error(`deleting ${ref.pod} is not wired yet`);
}
