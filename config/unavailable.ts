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
  'feature.network.outgoing.filter',
  'feature.network.dns.filter',
  'agent.json_log',
  // The intproxy lives exactly as long as the session the CLI owns; idle timeouts do not apply yet.
  'internal_proxy.start_idle_timeout',
  'internal_proxy.idle_timeout',
];
const ALSO_FINE: Record<string, { value: unknown; note: string }> = {};

/**
 * Values podlink refuses by design, with the reason (not "not built yet": they will not be).
 * THE list, like UNAVAILABLE.
 */
const REFUSED: { key: string; value: unknown; reason: string; hint: string }[] = [
  {
    key: 'feature.network.incoming.on_concurrent_steal',
    value: 'override',
    reason: 'a podlink session never takes another developer\'s traffic away (sessions sharing a port only ever get their own matched requests)',
    hint: 'use an http_filter of your own (several filtered sessions share a port), or on_concurrent_steal "continue" to leave a held port local',
  },
];

/** The values set that podlink refuses by design: key, value, why, and the way out. */
export function refusedValues(config: PodlinkConfig): { key: string; value: unknown; reason: string; hint: string }[] {
  return REFUSED.filter((r) => JSON.stringify(valueAt(config, r.key.split('.'))) === JSON.stringify(r.value));
}

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
