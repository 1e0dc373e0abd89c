/**
 * Keys that validate today but whose feature `podlink exec` cannot do yet. Setting one away from its
 * default makes exec refuse the config in one line naming the key, instead of silently ignoring it.
 *
 * THE list: when a feature lands, delete its entries here (and nowhere else).
 */
import { configSchema } from './schema.js';
import { errorMap } from './issues.js';
import type { PodlinkConfig } from './schema.js';

interface Entry {
  /** Dotted path in the effective config. */
  key: string;
  /** A value (other than the default) that is fine anyway, e.g. incoming `off` when incoming does not exist. */
  alsoFine?: (value: unknown) => boolean;
  /** Says which values alsoFine lets through, for the docs. */
  note?: string;
}

const UNAVAILABLE: Entry[] = [
  { key: 'feature.network.incoming.mode', alsoFine: (v) => v === 'off', note: 'except `"off"`' },
  { key: 'feature.network.incoming.http_filter' },
  { key: 'feature.network.incoming.port_mapping' },
  { key: 'feature.network.incoming.listen_ports' },
  { key: 'feature.network.incoming.ports' },
  { key: 'feature.network.incoming.ignore_ports' },
  { key: 'feature.network.incoming.ignore_localhost' },
  { key: 'feature.network.incoming.on_concurrent_steal' },
  { key: 'feature.network.outgoing.filter' },
  { key: 'feature.network.dns.filter' },
  { key: 'agent.ephemeral' },
  { key: 'agent.privileged' },
  { key: 'agent.node_selector' },
  { key: 'agent.tolerations' },
  { key: 'agent.labels' },
  { key: 'agent.annotations' },
  { key: 'agent.resources' },
  { key: 'agent.image_pull_policy' },
  { key: 'agent.image_pull_secrets' },
  { key: 'agent.disabled_capabilities' },
  { key: 'agent.service_account' },
  { key: 'agent.priority_class' },
  { key: 'agent.communication_timeout' },
  { key: 'agent.json_log' },
  // The intproxy lives exactly as long as the session the CLI owns; idle timeouts do not apply yet.
  { key: 'internal_proxy.start_idle_timeout' },
  { key: 'internal_proxy.idle_timeout' },
];

let defaults: PodlinkConfig | undefined;
/** The effective config of an empty file. */
export function defaultConfig(): PodlinkConfig {
  defaults ??= configSchema.parse({}, { error: errorMap });
  return structuredClone(defaults);
}

function get(obj: unknown, key: string): unknown {
  let v = obj;
  for (const seg of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Key paths set away from their default for features that are not built yet (empty = all fine). */
export function unavailableFeatures(config: PodlinkConfig): string[] {
  const dflt = defaultConfig();
  return UNAVAILABLE.filter(({ key, alsoFine }) => {
    const v = get(config, key);
    return !same(v, get(dflt, key)) && !(alsoFine?.(v) ?? false);
  }).map((e) => e.key);
}

/** The keys on the list, for docs and tests. */
export function unavailableKeys(): string[] {
  return UNAVAILABLE.map((e) => e.key);
}

/** The list as the docs show it: each key, with the values that are fine anyway. */
export function unavailableList(): { key: string; note?: string }[] {
  return UNAVAILABLE.map(({ key, note }) => (note ? { key, note } : { key }));
}
