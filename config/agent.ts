/**
 * `agent`: the short-lived helper podlink starts in the cluster (a pod on the target's node, or an
 * ephemeral container in the target pod). mirrord's keys, with podlink's defaults.
 */
import { z } from 'zod';
import { annotationMap, checked, labelMap, logLevel, namespaceName, seconds } from './common.js';
import { objectNameProblem, quantityProblem, resourceNameProblem } from '../kube/names.js';

/** Kubernetes resource quantities by resource name (`cpu`, `memory`, …). */
export const DEFAULT_RESOURCES: { requests: Record<string, string>; limits: Record<string, string> } = {
  requests: { cpu: '1m', memory: '1Mi' },
  limits: { cpu: '1', memory: '100Mi' },
};
export const DEFAULT_TOLERATIONS = [{ operator: 'Exists' as const }];

const quantityMap = z
  .record(z.string(), z.union([z.string(), z.number()]))
  .transform((m, ctx): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, raw] of Object.entries(m)) {
      out[k] = String(raw);
      const problem = resourceNameProblem(k) ?? quantityProblem(out[k]);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [k], input: raw });
    }
    return out;
  });

const resources = z
  .strictObject({
    requests: quantityMap.optional().describe('Resource requests, e.g. `{ "cpu": "10m", "memory": "32Mi" }`.'),
    limits: quantityMap.optional().describe('Resource limits, e.g. `{ "cpu": "1", "memory": "256Mi" }`.'),
  })
  .transform((r) => ({
    requests: { ...DEFAULT_RESOURCES.requests, ...r.requests },
    limits: { ...DEFAULT_RESOURCES.limits, ...r.limits },
  }));

const toleration = z
  .strictObject({
    key: z.string().optional().describe('Taint key to tolerate; absent with operator Exists = every taint.'),
    operator: z.enum(['Exists', 'Equal']).default('Equal'),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().min(0).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.operator === 'Exists' && t.value !== undefined && t.value !== '')
      ctx.addIssue({ code: 'custom', message: 'a toleration with operator Exists takes no value', path: ['value'], input: t.value });
    if (t.operator === 'Equal' && t.key === undefined)
      ctx.addIssue({ code: 'custom', message: 'a toleration with operator Equal needs a key (or use operator Exists)', path: ['operator'], input: t.operator });
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      ctx.addIssue({ code: 'custom', message: 'tolerationSeconds only applies with effect NoExecute', path: ['tolerationSeconds'], input: t.tolerationSeconds });
  });

/** Linux capabilities the agent may be denied, Kubernetes spelling (no `CAP_` prefix). */
const CAPABILITIES = ['NET_ADMIN', 'NET_RAW', 'SYS_PTRACE', 'SYS_ADMIN'] as const;
const capability = z
  .string()
  .transform((c, ctx) => {
    const bare = c.toUpperCase().replace(/^CAP_/, '');
    const known = CAPABILITIES.find((k) => k === bare);
    if (known) return known;
    ctx.addIssue({ code: 'custom', message: `expected one of ${CAPABILITIES.map((x) => `CAP_${x}`).join(', ')}, got "${c}"`, input: c });
    return z.NEVER;
  });

const kubeName = (what: string) => checked(objectNameProblem, (n, problem) => `${what} \`${n}\` ${problem}`);

const image = z
  .union([
    z.string().min(1),
    z.strictObject({
      registry: z.string().min(1).describe('Image repository, e.g. `registry.example.com/podlink-agent`.'),
      tag: z.string().min(1).optional().describe('Image tag; absent = the repository alone (`latest`).'),
    }),
  ])
  .transform((v, ctx): string => {
    const ref = typeof v === 'string' ? v : v.tag !== undefined ? `${v.registry}:${v.tag}` : v.registry;
    if (/\s/.test(ref)) ctx.addIssue({ code: 'custom', message: `image \`${ref}\` contains whitespace`, input: v });
    return ref;
  });

export const agentSchema = z
  .strictObject({
    namespace: namespaceName.optional().describe("Namespace the agent runs in. Default: the target's namespace (targetless: the kube context's)."),
    image: image
      .optional()
      .describe("Agent image, as a reference string or mirrord's `{ registry, tag }`. Default: the image matching this podlink version.")
      .meta({ examples: ['registry.example.com/podlink-agent:0.1.0'] }),
    image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent').describe('Kubernetes `imagePullPolicy` of the agent container.'),
    image_pull_secrets: z
      .array(z.strictObject({ name: z.string().min(1).describe('Name of a docker-registry secret in the agent namespace.') }))
      .default([])
      .transform((l) => l.map((s) => s.name))
      .describe('Secrets for pulling the agent image from a private registry, as `[{ "name": "regcred" }]`.'),
    log_level: logLevel.default('info').describe('Agent log level: trace, debug, info, warn or error (a RUST_LOG filter is read as its most verbose level).'),
    json_log: z.boolean().default(false).describe('Agent logs as JSON lines instead of text.'),
    ttl: seconds(0, 65535).default(1).describe('Seconds the finished agent pod is kept before Kubernetes deletes it.'),
    startup_timeout: seconds(1, 86400).default(60).describe('Seconds to wait for the agent to be ready before giving up.'),
    communication_timeout: seconds(1, 65535).optional().describe('Seconds a cluster agent waits for podlink to come back after the link to it drops (podlink reconnects within that time), and for the first connection; then it exits. Default: 15. A `pid/` target\'s agent ends with its pipe.'),
    ephemeral: z.boolean().default(false).describe('Run the agent as an ephemeral container inside the target pod instead of a pod on its node (not for targetless runs).'),
    privileged: z.boolean().default(false).describe('Run the agent container privileged (some hardened nodes need it). Default: only the capabilities it needs.'),
    labels: labelMap.default({}).describe('Extra labels on the agent pod.'),
    annotations: annotationMap.default({}).describe('Extra annotations on the agent pod.'),
    tolerations: z.array(toleration).default(DEFAULT_TOLERATIONS).describe('Tolerations of the agent pod (not with ephemeral). Default: tolerate every taint, so it can run on the target\'s node.'),
    node_selector: labelMap.default({}).describe('Node selector for a targetless agent pod (a targeted agent always runs on the target\'s node).'),
    resources: resources.default(DEFAULT_RESOURCES).describe('Requests/limits of the agent container; unset entries keep the defaults (requests cpu 1m, memory 1Mi; limits cpu 1, memory 100Mi).'),
    disabled_capabilities: z
      .array(capability)
      .default([])
      .transform((l) => [...new Set(l)])
      .describe('Capabilities the agent must not get (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, CAP_SYS_ADMIN); features that need them stop working.'),
    service_account: kubeName('service account').optional().describe('Service account of the agent pod.'),
    priority_class: kubeName('priority class').optional().describe('PriorityClass of the agent pod.'),
  })
  .prefault({})
  .describe('The agent podlink starts in the cluster for the session. Every key has a default; most teams set none.');
