/**
 * The control channel between the CLI and the intproxy it forks (Node IPC). The CLI owns the session;
 * the intproxy reports readiness, answers the environment request and says when the link to the agent
 * drops, comes back, or is lost for good.
 */
import type { KubeSelection } from '../kube/client.js';
import type { PortEvent } from './incoming.js';
import type { IncomingSettings } from './incoming-settings.js';

/** How the intproxy reaches the agent (intproxy/transports.ts). */
export type AgentTransportSpec =
  /** Spawn the agent and speak on its stdin/stdout (a `pid/` target: the agent runs under nsenter). */
  | { kind: 'spawn'; argv: string[] }
  /** The agent listens on an address this machine reaches (netns tests). */
  | { kind: 'tcp'; host: string; port: number }
  /** The agent in a pod, through the API server's port-forward. */
  | { kind: 'port-forward'; kube: KubeSelection; namespace: string; pod: string; port: number };

/** The agent's pod, which the intproxy deletes if it outlives the CLI (the CLI was killed). */
export interface AgentPodRef {
  kube: KubeSelection;
  namespace: string;
  pod: string;
  job?: string;
  ephemeral: boolean;
}

export interface StartRequest {
  type: 'start';
  /** Unix socket path the layers connect to. */
  socketPath: string;
  agent: AgentTransportSpec;
  /** The agent session's token (empty for a spawned agent). */
  token: string;
  /** How long to wait for the agent's HelloOk. */
  startupTimeoutMs: number;
  /** How long to keep trying to reach the agent again after a dropped link (its own grace period). */
  reconnectGraceMs: number;
  agentPod?: AgentPodRef;
  /** `internal_proxy.log_destination` / `log_level`: the intproxy's (and the agent's stderr) log. */
  log: { file?: string; level: string };
  /** feature.network.incoming, unless its mode is `off`. */
  incoming?: IncomingSettings;
}

export type CliToIntproxy = StartRequest | { type: 'getEnv' } | { type: 'getHostname' } | { type: 'shutdown' };

export type IntproxyToCli =
  | { type: 'ready'; agentPid: number; agentBuild: string }
  | { type: 'failed'; code: string; message: string; hint?: string }
  | { type: 'env'; vars: { name: string; value: string }[] }
  | { type: 'envFailed'; message: string }
  /** The target's hostname from its /etc/hostname; '' when it has none or it cannot be read. */
  | { type: 'hostname'; name: string }
  | { type: 'linkDown'; message: string }
  | { type: 'linkUp'; afterMs: number; reset: number }
  | { type: 'agentLost'; message: string }
  /** A port of the app was subscribed (or could not be: `error`). */
  | ({ type: 'incoming' } & PortEvent);
