/**
 * Things worth telling the user about a valid config: mirrord keys accepted but meaningless in
 * podlink, values read differently than written, settings that have no effect. One line each,
 * without the `podlink:` prefix.
 */
import { LOG_LEVELS } from './common.js';
import { filterHostNames } from './feature/network.js';
import { valueAt } from './issues.js';
import { ACCEPTED_AT_DEFAULT } from './mirrord.js';
import type { PodlinkConfig } from './schema.js';

const get = (obj: unknown, key: string): unknown => valueAt(obj, key.split('.'));

export function configNotices(raw: Record<string, unknown>, config: PodlinkConfig): string[] {
  const out: string[] = [];
  for (const [key, { value, why }] of Object.entries(ACCEPTED_AT_DEFAULT)) {
    if (get(raw, key) === value) out.push(`${key}: ${JSON.stringify(value)} ignored (${why})`);
  }
  for (const key of ['agent.log_level', 'internal_proxy.log_level']) {
    const written = get(raw, key);
    if (typeof written === 'string' && !(LOG_LEVELS as readonly string[]).includes(written)) {
      const used = get(config, key);
      if (written.trim().toLowerCase() !== used) out.push(`${key}: "${written}" read as the level "${String(used)}"`);
    }
  }
  const net = config.feature.network;
  if (get(raw, 'feature.network.dns.filter') !== undefined && !net.dns.enabled) out.push('feature.network.dns.filter has no effect: remote DNS is off');
  if (net.outgoing.filter && !net.outgoing.tcp && !net.outgoing.udp) out.push('feature.network.outgoing.filter has no effect: outgoing traffic is off');
  if (Object.keys(net.incoming.http_filter).length > 0 && net.incoming.mode === 'off') out.push('feature.network.incoming.http_filter has no effect: incoming is off');
  if (net.outgoing.filter && net.dns.enabled && net.dns.filter) {
    const side = net.outgoing.filter.local ? 'local' : 'remote';
    const other = side === 'local' ? 'remote' : 'local';
    const names = filterHostNames(net.outgoing.filter[side]!);
    const clash = names.filter((n) => net.dns.filter?.[other]?.includes(n));
    if (clash.length > 0)
      out.push(`${clash.join(', ')}: outgoing.filter sends ${clash.length > 1 ? 'them' : 'it'} ${side} but dns.filter resolves ${clash.length > 1 ? 'them' : 'it'} ${other === 'local' ? 'locally' : 'remotely'}`);
  }
  return out;
}
