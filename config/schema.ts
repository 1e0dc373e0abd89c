/**
 * THE configuration schema: one zod definition that validates a file (mirrord-compatible keys and
 * shorthands), fills the defaults, and outputs the effective PodlinkConfig, whose TypeScript type is
 * derived from it (`z.output`). Its descriptions feed the JSON Schema (`podlink schema`,
 * podlink.schema.json) and the reference in README.md and docs/config.md (tools/gen/config-docs.ts),
 * and a unit test fails when those drift from this file.
 *
 * The areas live in their own files: target.ts, agent.ts, internal_proxy.ts, feature/*.ts.
 */
import { z } from 'zod';
import { agentSchema } from './agent.js';
import { envSchema } from './feature/env.js';
import { fsSchema } from './feature/fs.js';
import { networkSchema } from './feature/network.js';
import { internalProxySchema } from './internal_proxy.js';
import { targetSchema } from './target.js';

const featureSchema = z
  .strictObject({
    env: envSchema,
    fs: fsSchema,
    network: networkSchema,
    hostname: z
      .boolean()
      .default(true)
      .describe("`gethostname` and `uname` give the target's hostname (read from its /etc/hostname), as they would inside the pod; Go's `os.Hostname` too. Targetless sessions keep the machine's."),
  })
  .prefault({})
  .describe('What of the target the local process sees: environment, files, network, hostname.');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of podlink.schema.json, for editors. Ignored by podlink.'),
    target: targetSchema,
    kubeconfig: z.string().min(1).optional().describe('Kubeconfig file to use. Default: `$KUBECONFIG`, else `~/.kube/config`.'),
    kube_context: z.string().min(1).optional().describe('Kube context to use. Default: the current context.'),
    accept_invalid_certificates: z.boolean().default(false).describe("Accept the API server's TLS certificate even when it does not verify (self-signed dev clusters)."),
    agent: agentSchema,
    feature: featureSchema,
    internal_proxy: internalProxySchema,
    operator: z.literal(false).optional().describe('mirrord-only; podlink has no operator, so only `false` is accepted.'),
    telemetry: z.literal(false).optional().describe('mirrord-only; podlink sends no telemetry, so only `false` is accepted.'),
  })
  // What only editors and mirrord read does not reach the effective config.
  .transform(({ $schema: _s, operator: _o, telemetry: _t, ...config }) => config)
  .describe(
    'podlink configuration: runs a local process as if it were inside a Kubernetes pod. The keys follow mirrord\'s mirrord.json, so a mirrord config loads unchanged (keys podlink does not support yet are named as such).',
  );

/**
 * The EFFECTIVE configuration: what the rest of podlink consumes after loadConfig() has expanded
 * every mirrord shorthand (`"fs": "read"`, `"incoming": "steal"`, `"network": false`, a target
 * string…) and filled every default. No consumer ever sees a shorthand or has to pick a default.
 */
export type PodlinkConfig = z.output<typeof configSchema>;
/** The config as written in a file (every key optional, shorthands allowed). */
export type RawConfig = z.input<typeof configSchema>;

/** The JSON Schema of a config file (input side: shorthands, defaults as annotations). */
export function jsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
    // zod leaves out `examples` and `default` of schemas that transform (most of ours: shorthands
    // expand, lists normalise); put them back, they are what editors show.
    override: (ctx) => {
      const meta = z.globalRegistry.get(ctx.zodSchema);
      if (meta?.examples && ctx.jsonSchema.examples === undefined) ctx.jsonSchema.examples = meta.examples as never;
      const def = ctx.zodSchema._zod.def as { type: string; defaultValue?: unknown };
      if (def.type === 'default' && ctx.jsonSchema.default === undefined) ctx.jsonSchema.default = structuredClone(def.defaultValue) as never;
    },
  }) as Record<string, unknown>;
  // `title` right after `$schema` (spreading keeps that order).
  return { $schema: generated.$schema, title: 'podlink configuration', ...generated };
}
