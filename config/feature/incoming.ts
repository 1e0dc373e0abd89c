/**
 * `feature.network.incoming`: traffic that reaches the target's ports — mirrored to the local
 * process (the pod keeps answering), stolen (the local process answers), or left alone.
 */
import { z } from 'zod';
import { jsRegex, port } from '../common.js';

export const INCOMING_MODES = ['mirror', 'steal', 'off'] as const;

const mode = z.enum(INCOMING_MODES).describe('`mirror` (default): copies of the requests; `steal`: the requests themselves; `off`: none.');

const method = z.string().superRefine((m, ctx) => {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(m)) ctx.addIssue({ code: 'custom', message: `\`${m}\` is not an HTTP method (e.g. GET, POST)`, input: m });
});

const innerFilter = z
  .strictObject({
    header: jsRegex.optional().describe('Regex on each `Name: value` header line.'),
    path: jsRegex.optional().describe('Regex on the path (and on path+query).'),
    method: method.optional().describe('HTTP method.'),
  })
  .transform((f, ctx) => {
    const set = (['header', 'path', 'method'] as const).filter((k) => f[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', message: set.length ? `one filter per item; split ${set.join(' and ')} into separate items` : 'expected one of `header`, `path` or `method`', input: f });
      return z.NEVER;
    }
    const k = set[0]!;
    return { [k]: f[k]! } as { header: string } | { path: string } | { method: string };
  });

const FILTER_KINDS = ['header_filter', 'path_filter', 'method_filter', 'all_of', 'any_of'] as const;

const httpFilterObject = z
  .strictObject({
    header_filter: jsRegex
      .optional()
      .describe('Steal only requests with a header line (`Name: value`) matching this regex (JavaScript syntax, case-insensitive).')
      .meta({ examples: ['^X-Dev-User: alice$'] }),
    path_filter: jsRegex.optional().describe('Steal only requests whose path (or path+query) matches this regex.').meta({ examples: ['^/api/'] }),
    method_filter: method.optional().describe('Steal only requests with this HTTP method.'),
    all_of: z.array(innerFilter).min(1).optional().describe('Steal only requests matching every one of these `{header}`/`{path}`/`{method}` filters.'),
    any_of: z.array(innerFilter).min(1).optional().describe('Steal requests matching at least one of these `{header}`/`{path}`/`{method}` filters.'),
    ports: z
      .union([port, z.array(port)])
      .transform((p) => (Array.isArray(p) ? p : [p]))
      .optional()
      .describe('Filter only on these ports; other ports are stolen unfiltered. Default: every port.'),
  })
  .superRefine((f, ctx) => {
    const set = FILTER_KINDS.filter((k) => f[k] !== undefined);
    if (set.length > 1) ctx.addIssue({ code: 'custom', message: `set only one of ${set.join(', ')}; combine several with all_of or any_of`, path: [set[1]!], input: f[set[1]!] });
  });

type HttpFilter = z.output<typeof httpFilterObject>;

const pairs = (what: string) =>
  z
    .array(z.tuple([port, port], { error: (iss) => (iss.code === 'invalid_type' && iss.expected !== 'tuple' ? undefined : 'expected a pair of ports like [3000, 3030]') }))
    .default([])
    .transform((list, ctx): [number, number][] => {
      const left = new Map<number, number>();
      const right = new Map<number, number>();
      list.forEach(([a, b], i) => {
        if (left.has(a)) ctx.addIssue({ code: 'custom', message: `port ${a} appears twice on the left (items ${left.get(a)} and ${i})`, path: [i, 0], input: a });
        if (right.has(b)) ctx.addIssue({ code: 'custom', message: `port ${b} appears twice on the right (items ${right.get(b)} and ${i})`, path: [i, 1], input: b });
        left.set(a, i);
        right.set(b, i);
      });
      return list;
    })
    .describe(what);

const incomingObject = z
  .strictObject({
    mode: mode.default('mirror'),
    http_filter: z
      .union([z.boolean().transform((): HttpFilter => ({})), httpFilterObject])
      .default({})
      .describe('Take only some HTTP requests (HTTP/1.1, HTTP/2, gRPC, WebSocket upgrades); the others reach the pod untouched. Set at most one of header_filter, path_filter, method_filter, all_of, any_of.'),
    port_mapping: pairs('`[[local, remote], …]`: the local process listens on `local` while the pod\'s port is `remote`.').meta({ examples: [[[3000, 3030]]] }),
    listen_ports: pairs('`[[app_port, local_port], …]`: when the app listens on `app_port`, really listen on `local_port` (e.g. to avoid needing root for port 80).'),
    ports: z.array(port).optional().describe('Only these remote ports are mirrored/stolen; others stay local. Not together with ignore_ports.'),
    ignore_ports: z.array(port).default([]).describe('These ports are never mirrored/stolen. Not together with ports.'),
    ignore_localhost: z.boolean().default(false).describe('Leave sockets that listen on localhost only out of mirroring/stealing.'),
    on_concurrent_steal: z
      .enum(['abort', 'continue', 'override'])
      .default('abort')
      .describe(
        'When another session already holds the port in a way this one conflicts with (an unfiltered steal, or the same filter): `abort` (default) ends this session with one line naming them; `continue` leaves that port local and goes on. `override` (taking their traffic) is refused: a session never moves another developer\'s traffic. Sessions with different HTTP filters share a port without conflict.',
      ),
  })
  .superRefine((o, ctx) => {
    if (o.ports !== undefined && o.ignore_ports.length > 0)
      ctx.addIssue({ code: 'custom', message: 'set either ports or ignore_ports, not both', path: ['ignore_ports'], input: o.ignore_ports });
  });

const fromMode = (mode: (typeof INCOMING_MODES)[number]) => incomingObject.parse({ mode });

export const incomingSchema = z
  .union([z.boolean().transform((on) => fromMode(on ? 'mirror' : 'off')), mode.transform(fromMode), incomingObject])
  .prefault('mirror')
  .describe('Incoming traffic to the target: `"mirror"` (default), `"steal"`, `"off"`, `true` (= mirror), `false` (= off), or an object.')
  .meta({ examples: ['steal', { mode: 'steal', http_filter: { header_filter: '^X-Dev-User: alice$' }, port_mapping: [[3000, 3030]] }] });
