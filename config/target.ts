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

/** Target kinds as written in a path, with the kind they normalise to. */
const KINDS: Record<string, string> = {
  pod: 'pod',
  deployment: 'deployment',
  deploy: 'deployment',
  rollout: 'rollout',
  job: 'job',
  cronjob: 'cronjob',
  statefulset: 'statefulset',
  replicaset: 'replicaset',
  service: 'service',
  pid: 'pid',
};
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

const pathString = z
  .string()
  .meta({ examples: ['deployment/api', 'pod/api-7d9f/container/app', 'targetless'] })
  .transform((text, ctx): string | undefined => {
    const r = parseTargetPath(text);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem, input: text, params: r.unsupported ? UNSUPPORTED : undefined });
      return z.NEVER;
    }
    return r.path;
  });

const OBJECT_KINDS = {
  pod: 'pod',
  deployment: 'deployment',
  rollout: 'rollout',
  job: 'job',
  cron_job: 'cronjob',
  stateful_set: 'statefulset',
  replica_set: 'replicaset',
  service: 'service',
} as const;

const name = (kind: string) => z.string().describe(`Name of the ${kind}.`);

/** mirrord's object form of a path: `{ "deployment": "api", "container": "app" }`. */
const pathObject = z
  .strictObject({
    pod: name('pod').optional(),
    deployment: name('deployment').optional(),
    rollout: name('Argo rollout').optional(),
    job: name('job').optional(),
    cron_job: name('cron job').optional(),
    stateful_set: name('stateful set').optional(),
    replica_set: name('replica set').optional(),
    service: name('service').optional(),
    container: z.string().optional().describe('Container in the pod; default: the first one.'),
  })
  .transform((o, ctx): string | undefined => {
    const kinds = (Object.keys(OBJECT_KINDS) as (keyof typeof OBJECT_KINDS)[]).filter((k) => o[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: kinds.length === 0 ? `name one kind: ${Object.keys(OBJECT_KINDS).join(', ')}` : `name exactly one kind, not ${kinds.join(' and ')}`,
        input: o,
      });
      return z.NEVER;
    }
    const kind = kinds[0]!;
    const text = `${OBJECT_KINDS[kind]}/${o[kind]}${o.container !== undefined ? `/container/${o.container}` : ''}`;
    const r = parseTargetPath(text);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem, input: o, path: [kind] });
      return z.NEVER;
    }
    return r.path;
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
