/**
 * `feature.network.outgoing` and `feature.network.dns`: connections and name lookups the local
 * process makes, sent from the target's network or kept local.
 */
import { z } from 'zod';
import { parseDnsFilter, parseOutgoingFilter } from '../address.js';
import { checkedList } from '../common.js';

function sideFilter(parse: (s: string) => unknown, syntax: string, what: string) {
  // A parse result that is a string is the problem with that pattern.
  const patternList = checkedList(
    (list) => list.map((s) => parse(s)).map((r) => (typeof r === 'string' ? r : undefined)),
    (s, problem) => `\`${s}\`: ${problem}`,
  );
  return z
    .strictObject({
      remote: patternList.optional().describe(`Only ${what} matching these go through the target; the rest stay local.`),
      local: patternList.optional().describe(`${what[0]!.toUpperCase()}${what.slice(1)} matching these stay local; the rest go through the target.`),
    })
    // Exactly one of the two is set.
    .transform((f, ctx): { remote?: string[]; local?: string[] } => {
      if ((f.remote === undefined) === (f.local === undefined)) {
        ctx.addIssue({ code: 'custom', message: f.remote ? 'set either remote or local, not both' : 'set remote or local', path: f.remote ? ['local'] : [], input: f });
        return z.NEVER;
      }
      return f.remote !== undefined ? { remote: f.remote } : { local: f.local! };
    })
    .describe(`Exactly one of \`remote\` / \`local\`: a list of \`${syntax}\` patterns (port 0 or none = any port; a name matches host names containing it).`);
}

const outgoingObject = z
  .strictObject({
    tcp: z.boolean().default(true).describe('Send TCP connections from the target.'),
    udp: z.boolean().default(true).describe('Send UDP traffic from the target.'),
    ignore_localhost: z
      .boolean()
      .default(true)
      .describe('Keep connections to localhost/loopback local. Default `true` in podlink (mirrord: `false`): set `false` to reach the pod\'s own loopback.'),
    filter: sideFilter(parseOutgoingFilter, '[tcp://|udp://][name|address|subnet/mask][:port]', 'connections')
      .optional()
      .meta({ examples: [{ local: ['tcp://localhost:5432', '10.0.0.0/8', ':53'] }] }),
  });

export const outgoingSchema = z
  .union([z.boolean().transform((on) => outgoingObject.parse({ tcp: on, udp: on })), outgoingObject])
  .prefault(true)
  .describe('Outgoing connections: `true` (default: TCP and UDP from the target), `false` (all local), or an object.');

const dnsObject = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Resolve names through the target (its resolv.conf and cluster DNS).'),
    filter: sideFilter(parseDnsFilter, '[name|address|subnet/mask][:port]', 'lookups').optional().meta({ examples: [{ local: ['localhost', 'internal.example.com'] }] }),
  });

export const dnsSchema = z
  .union([z.boolean().transform((enabled) => dnsObject.parse({ enabled })), dnsObject])
  .prefault(true)
  .describe('Name resolution: `true` (default: through the target), `false` (local), or an object. Host names in `outgoing.filter` are added to the DNS filter on the same side.');
