/**
 * Building blocks shared by the schema areas: ports, lists that mirrord lets you write as a single
 * string, regex lists, Kubernetes names (rules in kube/names.ts), log levels. Each carries its own one-line messages; the
 * generic ones (wrong type, out of range) come from the error map in issues.ts.
 */
import { z } from 'zod';
import { jsRegexProblem, posixEreProblems } from './regex.js';
import { closest } from './suggest.js';
import { labelKeyProblem, labelValueProblem, namespaceProblem } from '../kube/names.js';

/** A custom issue that issues.ts turns into a CONFIG_UNSUPPORTED error instead of an invalid value. */
export const UNSUPPORTED = { podlinkCode: 'CONFIG_UNSUPPORTED' } as const;

export const port = z.number().int().min(1).max(65535);

/**
 * One string or a list of them (mirrord's `VecOrSingle`), always a list here, each item checked by
 * `problems` (all items in one call); an item's problem is reported at its index.
 */
export function checkedList(problems: (items: string[]) => (string | undefined)[], message: (item: string, problem: string) => string) {
  return z.union([z.string(), z.array(z.string())]).transform((v, ctx): string[] => {
    const list = Array.isArray(v) ? v : [v];
    problems(list).forEach((problem, i) => {
      if (problem) ctx.addIssue({ code: 'custom', message: message(list[i]!, problem), path: Array.isArray(v) ? [i] : [], input: list[i] });
    });
    return list;
  });
}

/** A string checked by `problem` (undefined = fine), reported as `message` says (default: the problem itself). */
export function checked(problem: (s: string) => string | undefined, message = (_s: string, p: string) => p) {
  return z.string().superRefine((s, ctx) => {
    const p = problem(s);
    if (p) ctx.addIssue({ code: 'custom', message: message(s, p), input: s });
  });
}

/** A list of fs path patterns: each must be a POSIX ERE glibc's regcomp reads as meant (see regex.ts). */
export const posixRegexList = () => checkedList(posixEreProblems, (p, problem) => `\`${p}\` is not usable as a POSIX extended regex: ${problem}`);

/** An HTTP filter regex (JavaScript syntax, matched case-insensitively by the agent). */
export const jsRegex = checked(jsRegexProblem, (p, problem) => `\`${p}\` is not a usable regex: ${problem}`);

export const namespaceName = checked(namespaceProblem);

/** A map of Kubernetes labels (also node selectors) or, with no value rule, of annotations. */
function kubeMap(valueProblem: (v: string) => string | undefined = () => undefined) {
  return z.record(z.string(), z.string()).superRefine((m, ctx) => {
    for (const [k, v] of Object.entries(m)) {
      const problem = labelKeyProblem(k) ?? valueProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [k], input: v });
    }
  });
}
export const labelMap = kubeMap(labelValueProblem);
export const annotationMap = kubeMap();

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A log level. mirrord takes RUST_LOG filters here (`mirrord=debug,warn`); podlink's parts log
 * through one level, so a filter is read as its most verbose level (a notice says so).
 */
export function levelOf(text: string): LogLevel | undefined {
  const t = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(t)) return t as LogLevel;
  if (t === '') return undefined;
  let best: LogLevel | undefined;
  for (const directive of t.split(',')) {
    const lvl = directive.includes('=') ? directive.slice(directive.indexOf('=') + 1).trim() : directive.trim();
    if (lvl === 'off' || (directive.includes('=') && lvl === '')) continue;
    if (!(LOG_LEVELS as readonly string[]).includes(lvl)) return undefined;
    if (best === undefined || LOG_LEVELS.indexOf(lvl as LogLevel) < LOG_LEVELS.indexOf(best)) best = lvl as LogLevel;
  }
  return best ?? 'error';
}

export const logLevel = z.string().transform((text, ctx): LogLevel => {
  const lvl = levelOf(text);
  if (lvl) return lvl;
  const guess = closest(text, LOG_LEVELS);
  ctx.addIssue({
    code: 'custom',
    message: `expected one of ${LOG_LEVELS.map((l) => `"${l}"`).join(', ')} (or a RUST_LOG filter like "mirrord=debug,warn"), got "${text}"${guess ? `; did you mean "${guess}"?` : ''}`,
    input: text,
  });
  return z.NEVER;
});

/** Seconds, as an integer within [min, max]. */
export function seconds(min: number, max: number) {
  return z.number().int().min(min).max(max);
}
