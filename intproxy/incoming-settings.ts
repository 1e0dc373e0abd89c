/**
 * `feature.network.incoming` as the intproxy applies it: which of the app's listening ports are taken,
 * the target's port each one maps to, how (mirror or steal), and the HTTP filter in its wire form.
 * Built by the CLI from the config and handed to the intproxy with its start request.
 */
import { FilterField, FilterMatch } from '../protocol/spec.js';
import type { MessageOf } from '../protocol/types.js';

export type WireFilter = MessageOf<'Subscribe'>['filter'];

export interface IncomingSettings {
  mode: 'mirror' | 'steal';
  /** Who this session is, for the sessions sharing a port (the agent's Subscribe.owner). */
  owner: { user: string; host: string };
  /**
   * on_concurrent_steal: `abort` — a port another session holds in a conflicting way ends this
   * session with the line that says who; `continue` — that port stays local, the session goes on.
   */
  onConcurrentSteal: 'abort' | 'continue';
  /** `match: none` = whole ports. */
  filter: WireFilter;
  /** http_filter.ports: the target's ports the filter applies to (others are stolen whole); undefined = all. */
  filterPorts?: number[];
  /** port_mapping: [local, remote]. */
  portMapping: [number, number][];
  /** incoming.ports: only these of the app's ports; undefined = all. */
  ports?: number[];
  ignorePorts: number[];
  /** Sockets listening on a loopback address only stay local. */
  ignoreLocalhost: boolean;
}

/** The config's http_filter keys (config/feature/incoming.ts, after validation). */
export interface HttpFilterConfig {
  header_filter?: string;
  path_filter?: string;
  method_filter?: string;
  all_of?: ({ header: string } | { path: string } | { method: string })[];
  any_of?: ({ header: string } | { path: string } | { method: string })[];
  ports?: number[];
}

function rule(item: { header: string } | { path: string } | { method: string }): WireFilter['rules'][number] {
  if ('header' in item) return { field: FilterField.header, pattern: item.header };
  if ('path' in item) return { field: FilterField.path, pattern: item.path };
  return { field: FilterField.method, pattern: item.method };
}

export function wireFilter(f: HttpFilterConfig): WireFilter {
  if (f.header_filter !== undefined) return { match: FilterMatch.all, rules: [rule({ header: f.header_filter })] };
  if (f.path_filter !== undefined) return { match: FilterMatch.all, rules: [rule({ path: f.path_filter })] };
  if (f.method_filter !== undefined) return { match: FilterMatch.all, rules: [rule({ method: f.method_filter })] };
  if (f.all_of) return { match: FilterMatch.all, rules: f.all_of.map(rule) };
  if (f.any_of) return { match: FilterMatch.any, rules: f.any_of.map(rule) };
  return { match: FilterMatch.none, rules: [] };
}

/** The settings of an incoming config whose mode is not `off`. */
export function incomingSettings(
  c: {
  mode: 'mirror' | 'steal';
  http_filter: HttpFilterConfig;
  port_mapping: [number, number][];
  ports?: number[];
  ignore_ports: number[];
  ignore_localhost: boolean;
  on_concurrent_steal: 'abort' | 'continue' | 'override';
  },
  owner: { user: string; host: string },
): IncomingSettings {
  // `override` (take the port from the sessions holding it) is refused before this (config/unavailable.ts).
  const s: IncomingSettings = {
    mode: c.mode,
    owner,
    onConcurrentSteal: c.on_concurrent_steal === 'continue' ? 'continue' : 'abort',
    filter: wireFilter(c.http_filter),
    portMapping: c.port_mapping,
    ignorePorts: c.ignore_ports,
    ignoreLocalhost: c.ignore_localhost,
  };
  if (c.http_filter.ports) s.filterPorts = c.http_filter.ports;
  if (c.ports) s.ports = c.ports;
  return s;
}

/** Why the app's port stays local, or undefined when it is taken. */
export function portStaysLocal(s: IncomingSettings, appPort: number, loopbackOnly: boolean): string | undefined {
  if (s.ports && !s.ports.includes(appPort)) return `port ${appPort} is not in incoming.ports`;
  if (s.ignorePorts.includes(appPort)) return `port ${appPort} is in incoming.ignore_ports`;
  if (s.ignoreLocalhost && loopbackOnly) return `port ${appPort} listens on localhost only (incoming.ignore_localhost)`;
  return undefined;
}

/** port_mapping: the target's port for the app's port. */
export function remotePortOf(s: IncomingSettings, appPort: number): number {
  return s.portMapping.find(([local]) => local === appPort)?.[1] ?? appPort;
}

/** The filter for the target's port: http_filter.ports limits where it applies. */
export function filterFor(s: IncomingSettings, remotePort: number): WireFilter {
  if (s.filter.match !== FilterMatch.none && s.filterPorts && !s.filterPorts.includes(remotePort)) return { match: FilterMatch.none, rules: [] };
  return s.filter;
}
