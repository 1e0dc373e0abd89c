/**
 * The EFFECTIVE configuration: what the rest of podlink consumes after loadConfig() has expanded
 * every mirrord shorthand (`"fs": "read"`, `"incoming": "steal"`, `"network": false`, a target
 * string…) and filled every default. No consumer ever sees a shorthand or has to pick a default.
 *
 * The schema in schema.ts produces exactly this type (a compile-time check there keeps them equal);
 * the user-facing reference with the defaults is docs/config.md.
 */
import type { LogLevel } from './common.js';

export type { LogLevel };
export type FsMode = 'read' | 'write' | 'local' | 'localwithoverrides';
export type IncomingMode = 'mirror' | 'steal' | 'off';
export type ConcurrentSteal = 'abort' | 'continue' | 'override';
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
/** Linux capabilities the agent may be denied, Kubernetes spelling (no `CAP_` prefix). */
export type AgentCapability = 'NET_ADMIN' | 'NET_RAW' | 'SYS_PTRACE' | 'SYS_ADMIN';

/** One inner filter of `all_of` / `any_of`: exactly one of header, path or method. */
export type HttpInnerFilter = { header: string } | { path: string } | { method: string };

/** At most one of header_filter, path_filter, method_filter, all_of, any_of is set. */
export interface HttpFilter {
  /** JavaScript regex, case-insensitive, matched against each `Name: value` header line. */
  header_filter?: string;
  /** JavaScript regex, case-insensitive, matched against the path and against path+query. */
  path_filter?: string;
  /** An HTTP method (token), compared case-insensitively. */
  method_filter?: string;
  all_of?: HttpInnerFilter[];
  any_of?: HttpInnerFilter[];
  /** Filter only these ports (others are stolen unfiltered); absent = every port. */
  ports?: number[];
}

/** Exactly one of `remote` / `local` is set (the schema enforces it). */
export interface SideFilter {
  remote?: string[];
  local?: string[];
}

export interface Toleration {
  key?: string;
  operator: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** Kubernetes resource quantities by resource name (`cpu`, `memory`, …). */
export interface AgentResources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

export interface AgentConfig {
  namespace?: string;
  image?: string;
  image_pull_policy: PullPolicy;
  image_pull_secrets: string[];
  log_level: string;
  json_log: boolean;
  /** Seconds the finished agent pod/Job is kept. */
  ttl: number;
  /** Seconds to wait for the agent to be ready. */
  startup_timeout: number;
  /** Seconds the agent stays alive with no connection; absent = agent's own default. */
  communication_timeout?: number;
  ephemeral: boolean;
  privileged: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  tolerations: Toleration[];
  node_selector: Record<string, string>;
  resources: AgentResources;
  disabled_capabilities: AgentCapability[];
  service_account?: string;
  priority_class?: string;
}

export interface EnvConfig {
  enabled: boolean;
  /** Glob patterns (`*`, `?`); absent = every remote variable. */
  include?: string[];
  /** Glob patterns; the defaults (PATH, HOME, …) plus the user's, minus defaults named in include. */
  exclude: string[];
  override: Record<string, string>;
  env_file?: string;
}

export interface FsConfig {
  mode: FsMode;
  read_only: string[];
  read_write: string[];
  local: string[];
  not_found: string[];
}

export interface IncomingConfig {
  mode: IncomingMode;
  http_filter: HttpFilter;
  /** [local, remote] pairs. */
  port_mapping: [number, number][];
  /** [app port, port actually listened on locally] pairs. */
  listen_ports: [number, number][];
  ports?: number[];
  ignore_ports: number[];
  ignore_localhost: boolean;
  on_concurrent_steal: ConcurrentSteal;
}

export interface OutgoingConfig {
  tcp: boolean;
  udp: boolean;
  ignore_localhost: boolean;
  filter?: SideFilter;
}

export interface DnsConfig {
  enabled: boolean;
  filter?: SideFilter;
}

export interface InternalProxyConfig {
  /** Seconds to wait for the first layer connection. */
  start_idle_timeout: number;
  /** Seconds to linger once the last layer connection is gone. */
  idle_timeout: number;
  log_level: string;
  log_destination?: string;
}

export interface PodlinkConfig {
  /** path e.g. "pod/x", "deployment/y/container/c", "pid/1234"; absent = targetless. */
  target: { path?: string; namespace?: string };
  kubeconfig?: string;
  kube_context?: string;
  accept_invalid_certificates: boolean;
  agent: AgentConfig;
  feature: {
    env: EnvConfig;
    fs: FsConfig;
    network: {
      incoming: IncomingConfig;
      outgoing: OutgoingConfig;
      dns: DnsConfig;
    };
  };
  internal_proxy: InternalProxyConfig;
}
