/**
 * Keys that validate today but whose feature `podlink exec` cannot do yet. Setting one away from its
 * default makes exec refuse the config in one line naming the key, instead of silently ignoring it.
 *
 * THE list: when a feature lands, delete its entries here (and nowhere else).
 */
import { configSchema } from './schema.js';
import { errorMap, valueAt } from './issues.js';
import type { PodlinkConfig } from './schema.js';

/** Dotted paths in the effective config. */
const UNAVAILABLE = [
  // Several sessions stealing one port: the issue "Several developers, one pod".
  'feature.network.incoming.on_concurrent_steal',
  'feature.network.outgoing.filter',
  'feature.network.dns.filter',
  'agent.json_log',
  // The intproxy lives exactly as long as the session the CLI owns; idle timeouts do not apply yet.
  'internal_proxy.start_idle_timeout',
  'internal_proxy.idle_timeout',
];
const ALSO_FINE: Record<string, { value: unknown; note: string }> = {};

let defaults: PodlinkConfig | undefined;
/** The effective config of an empty file. */
export function defaultConfig(): PodlinkConfig {
  defaults ??= configSchema.parse({}, { error: errorMap });
  return structuredClone(defaults);
}

/** Key paths set away from their default for features that are not built yet (empty = all fine). */
export function unavailableFeatures(config: PodlinkConfig): string[] {
  const dflt = defaultConfig();
  const json = (c: unknown, key: string) => JSON.stringify(valueAt(c, key.split('.')));
  return UNAVAILABLE.filter((key) => {
    const set = json(config, key);
    return set !== json(dflt, key) && !(ALSO_FINE[key] && set === JSON.stringify(ALSO_FINE[key].value));
  });
}

/** The list, for docs and tests: each key, with the values that are fine anyway. */
export function unavailableList(): { key: string; note?: string }[] {
  return UNAVAILABLE.map((key) => (ALSO_FINE[key] ? { key, note: ALSO_FINE[key].note } : { key }));
}
