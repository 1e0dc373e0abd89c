/**
 * `target`: what the local process pretends to run in. mirrord's forms are all accepted and
 * normalised to one path string:
 *
 *   "deployment/api"                                      → path "deployment/api"
 *   { "path": "pod/api-0/container/app", "namespace": "x" }
 *   { "path": { "deployment": "api", "container": "app" } } → path "deployment/api/container/app"
 *   "targetless" (or no target)                           → path absent
 *
 * plus podlink's own `pid/PID` (a local process, for development and tests).
 */
import { z } from 'zod';
import { UNSUPPORTED, namespaceName } from './common.js';
import { dnsLabelProblem, objectNameProblem } from '../kube/names.js';
import { closest } from './suggest.js';

/** mirrord's keys of the object form → the kind as a path writes it, and as the reference names it. */
const OBJECT_KINDS = {
  pod: ['pod', 'pod'],
  deployment: ['deployment', 'deployment'],
  rollout: ['rollout', 'Argo rollout'],
  job: ['job', 'job'],
  cron_job: ['cronjob', 'cron job'],
  stateful_set: ['statefulset', 'stateful set'],
  replica_set: ['replicaset', 'replica set'],
  service: ['service', 'service'],
} as const;
type ObjectKind = keyof typeof OBJECT_KINDS;

/** Target kinds as written in a path, with the kind they normalise to. */
const KINDS: Record<string, string> = { ...Object.fromEntries(Object.values(OBJECT_KINDS).map(([k]) => [k, k])), deploy: 'deployment', pid: 'pid' };
/** mirrord kinds podlink does not do yet. */
const UNSUPPORTED_KINDS = ['label'];

const FORMS = '`pod/NAME[/container/C]`, `deployment/NAME`, `statefulset/NAME`, `replicaset/NAME`, `job/NAME`, `cronjob/NAME`, `service/NAME`, `rollout/NAME`, `pid/PID` or `targetless`';

type PathResult = { path?: string } | { problem: string; unsupported?: boolean };

/** Parses a target path string into its normalised form. */
export function parseTargetPath(text: string): PathResult {
  if (text === 'targetless') return {};
  const parts = text.split('/');
  const kind = parts[0]!;
  if (parts.length === 1) {
    if (KINDS[kind] || UNSUPPORTED_KINDS.includes(kind)) return { problem: `\`${text}\` needs a name after the kind, e.g. \`${kind}/NAME\`` };
    // A bare NAME is a pod, as kubectl and mirrord read it.
    const problem = objectNameProblem(kind);
    if (problem) return { problem: `\`${text}\` is no target: the pod name ${problem}; write ${FORMS}` };
    return { path: `pod/${kind}` };
  }
  if (UNSUPPORTED_KINDS.includes(kind)) return { problem: `${kind} targets are a mirrord feature podlink does not support yet`, unsupported: true };
  const normal = KINDS[kind];
  if (!normal) {
    const guess = closest(kind, [...Object.keys(KINDS), ...UNSUPPORTED_KINDS]);
    return { problem: `unknown target kind \`${kind}\`${guess ? `; did you mean \`${guess}\`?` : `; write ${FORMS}`}` };
  }
  const name = parts[1]!;
  if (normal === 'pid') {
    if (parts.length !== 2 || !/^[1-9]\d{0,9}$/.test(name)) return { problem: `\`${text}\`: write \`pid/PID\` with the number of a running local process` };
    return { path: `pid/${name}` };
  }
  if (name === '') return { problem: `\`${text}\` needs a name after \`${kind}/\`` };
  const nameProblem = objectNameProblem(name);
  if (nameProblem) return { problem: `\`${text}\`: the ${normal} name ${nameProblem}` };
  if (parts.length === 2) return { path: `${normal}/${name}` };
  if (parts.length === 4 && parts[2] === 'container') {
    const container = parts[3]!;
    const containerProblem = container === '' ? 'is empty' : dnsLabelProblem(container);
    if (containerProblem) return { problem: `\`${text}\`: the container name ${containerProblem}` };
    return { path: `${normal}/${name}/container/${container}` };
  }
  return { problem: `\`${text}\`: after the name only \`/container/NAME\` may follow` };
}

/** The normalised path of `text`, or (z.NEVER) an issue at `at` saying what is wrong with it. */
function normalised(text: string, ctx: z.core.$RefinementCtx, input: unknown, at: PropertyKey[] = []): string | undefined {
  const r = parseTargetPath(text);
  if (!('problem' in r)) return r.path;
  ctx.addIssue({ code: 'custom', message: r.problem, input, path: at, params: r.unsupported ? UNSUPPORTED : undefined });
  return z.NEVER;
}

const pathString = z
  .string()
  .meta({ examples: ['deployment/api', 'pod/api-7d9f/container/app', 'targetless'] })
  .transform((text, ctx) => normalised(text, ctx, text));

/** mirrord's object form of a path: `{ "deployment": "api", "container": "app" }`. */
const pathObject = z
  .strictObject({
    ...(Object.fromEntries(
      Object.entries(OBJECT_KINDS).map(([key, [, what]]) => [key, z.string().describe(`Name of the ${what}.`).optional()]),
    ) as Record<ObjectKind, z.ZodOptional<z.ZodString>>),
    container: z.string().optional().describe('Container in the pod; default: the first one.'),
  })
  .transform((o, ctx): string | undefined => {
    const kinds = (Object.keys(OBJECT_KINDS) as ObjectKind[]).filter((k) => o[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: kinds.length === 0 ? `name one kind: ${Object.keys(OBJECT_KINDS).join(', ')}` : `name exactly one kind, not ${kinds.join(' and ')}`,
        input: o,
      });
      return z.NEVER;
    }
    const kind = kinds[0]!;
    return normalised(`${OBJECT_KINDS[kind][0]}/${o[kind]}${o.container !== undefined ? `/container/${o.container}` : ''}`, ctx, o, [kind]);
  });

const targetObject = z.strictObject({
  path: z
    .union([pathString, pathObject])
    .optional()
    .describe(`What to target: ${FORMS}, or mirrord's object form \`{ "deployment": "NAME", "container": "C" }\`. Absent = targetless.`),
  namespace: namespaceName
    .optional()
    .describe('Namespace of the target (for targetless runs: where the agent runs). Default: the namespace of the kube context.'),
});

export const targetSchema = z
  .union([pathString.transform((path) => ({ path })), targetObject])
  .optional()
  // Absent or "targetless": no path. A path that normalised to undefined ("targetless") is dropped.
  .transform((t): { path?: string; namespace?: string } => {
    const { path, namespace }: { path?: string; namespace?: string } = { ...t };
    return { ...(path !== undefined && { path }), ...(namespace !== undefined && { namespace }) };
  })
  .describe(
    `The Kubernetes resource the local process runs "inside": ${FORMS}. A string, or \`{ "path": …, "namespace": … }\`. Absent or \`"targetless"\`: a short-lived agent gives cluster DNS and outgoing traffic only. Workload targets (deployment, rollout…) pick one running pod.`,
  )
  .meta({ examples: ['deployment/api', { path: 'pod/api-0/container/app', namespace: 'staging' }] });
