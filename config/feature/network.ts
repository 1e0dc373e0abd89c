/**
 * `feature.network`: `true` (default), `false` (incoming off, outgoing and DNS local), or
 * `{ incoming, outgoing, dns }`.
 *
 * After the parts are read, host names of `outgoing.filter` are copied into `dns.filter` on the
 * same side (as mirrord does), so a name sent local is also resolved locally:
 *
 *   outgoing \ dns.filter | unset           | local L        | remote R
 *   local N               | local N         | local L + N    | unchanged
 *   remote N              | unchanged       | unchanged      | remote R + N
 */
import { z } from 'zod';
import { parseOutgoingFilter } from '../address.js';
import { incomingSchema } from './incoming.js';
import { dnsSchema, outgoingSchema } from './outgoing.js';

type OutgoingConfig = z.output<typeof outgoingSchema>;
type DnsConfig = z.output<typeof dnsSchema>;

/** Host-name entries (with their port, if any) of an outgoing filter list. */
export function filterHostNames(list: string[]): string[] {
  const names: string[] = [];
  for (const s of list) {
    const f = parseOutgoingFilter(s);
    if (typeof f === 'string' || f.address.kind !== 'name') continue;
    names.push(f.address.port ? `${f.address.name}:${f.address.port}` : f.address.name);
  }
  return names;
}

export function reflectOutgoingInDns(outgoing: OutgoingConfig, dns: DnsConfig): DnsConfig {
  if (!dns.enabled || !outgoing.filter) return dns;
  const side = outgoing.filter.local ? 'local' : 'remote';
  const names = filterHostNames(outgoing.filter[side]!);
  if (names.length === 0) return dns;
  const current = dns.filter?.[side];
  if (current) return { ...dns, filter: { [side]: [...new Set([...current, ...names])] } };
  if (dns.filter === undefined && side === 'local') return { ...dns, filter: { local: names } };
  return dns;
}

const networkObject = z
  .strictObject({
    incoming: incomingSchema,
    outgoing: outgoingSchema,
    dns: dnsSchema,
    ipv6: z.boolean().optional().describe('mirrord\'s IPv6 switch, accepted and ignored: podlink always handles IPv6 (outgoing connections to IPv6 and IPv4-mapped addresses, AAAA answers).'),
  })
  .transform((n) => ({ incoming: n.incoming, outgoing: n.outgoing, dns: reflectOutgoingInDns(n.outgoing, n.dns) }));

export const networkSchema = z
  .union([
    z.boolean().transform((on) => networkObject.parse(on ? {} : { incoming: false, outgoing: false, dns: false })),
    networkObject,
  ])
  .prefault(true)
  .describe('Network features: `true` (default), `false` (incoming off, outgoing and DNS local), or `{ incoming, outgoing, dns }`.');
