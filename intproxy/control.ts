/**
 * The control channel between the CLI and the intproxy it forks (Node IPC). The CLI owns the session;
 * the intproxy reports readiness, answers the environment request and says when the agent is lost.
 */

/** How the intproxy reaches the agent. */
export type AgentTransport =
  /** Spawn the agent and speak on its stdin/stdout (a `pid/` target: the agent runs under nsenter). */
  { kind: 'spawn'; argv: string[] };

export interface StartRequest {
  type: 'start';
  /** Unix socket path the layers connect to. */
  socketPath: string;
  agent: AgentTransport;
  /** How long to wait for the agent's HelloOk. */
  startupTimeoutMs: number;
  /** `internal_proxy.log_destination` / `log_level`: the intproxy's (and the agent's stderr) log. */
  log: { file?: string; level: string };
}

export type CliToIntproxy = StartRequest | { type: 'getEnv' } | { type: 'shutdown' };

export type IntproxyToCli =
  | { type: 'ready'; agentPid: number }
  | { type: 'failed'; code: string; message: string; hint?: string }
  | { type: 'env'; vars: { name: string; value: string }[] }
  | { type: 'envFailed'; message: string }
  | { type: 'agentLost'; message: string };
