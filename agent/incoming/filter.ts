/**
 * HTTP filters as the agent runs them: the wire form (protocol/spec.ts `Subscribe.filter`) compiled
 * into one predicate over a request's method, path and header lines. The same predicate serves
 * HTTP/1.x requests and HTTP/2 streams (gRPC included), so what matches is the same whatever the
 * client spoke.
 *
 *   header   a JavaScript regex, case-insensitive, over each header line `Name: value` (HTTP/2 names
 *            are lower-case on the wire; HTTP/1 names keep the client's case: the `i` flag makes
 *            that moot). Pseudo-headers (`:path`…) are not header lines.
 *   path     over the path without its query, and over the path with it: either may match.
 *   method   the method, compared case-insensitively.
 */
import { FilterField, FilterMatch } from '../../protocol/spec.js';
import type { MessageOf } from '../../protocol/types.js';

export type WireFilter = MessageOf<'Subscribe'>['filter'];

/** What a filter looks at. `headers` are [name, value] pairs in the order the client sent them. */
export interface RequestView {
  method: string;
  /** The request target: path and optional query (`/api/x?y=1`). */
  target: string;
  headers: [string, string][];
  /** The header lines `Name: value`, made once per request by the first header rule that looks. */
  lines?: string[];
}

function headerLines(r: RequestView): string[] {
  if (r.lines) return r.lines;
  const lines: string[] = [];
  for (const [n, v] of r.headers) lines.push(`${n}: ${v}`);
  return (r.lines = lines);
}

export type RequestFilter = (r: RequestView) => boolean;

/** Compiles a wire filter; throws (with the pattern) when a regex does not compile. */
export function compileFilter(f: WireFilter): RequestFilter | undefined {
  if (f.match === FilterMatch.none) return undefined;
  const rules = f.rules.map((rule): RequestFilter => {
    if (rule.field === FilterField.method) {
      const want = rule.pattern.toUpperCase();
      return (r) => r.method.toUpperCase() === want;
    }
    let re: RegExp;
    try {
      re = new RegExp(rule.pattern, 'i');
    } catch (e) {
      throw new Error(`HTTP filter ${JSON.stringify(rule.pattern)} is not a valid regex: ${(e as Error).message}`);
    }
    if (rule.field === FilterField.header) return (r) => headerLines(r).some((l) => re.test(l));
    if (rule.field === FilterField.path) {
      return (r) => {
        const q = r.target.indexOf('?');
        return re.test(q < 0 ? r.target : r.target.slice(0, q)) || (q >= 0 && re.test(r.target));
      };
    }
    throw new Error(`unknown HTTP filter field ${rule.field}`);
  });
  if (rules.length === 0) throw new Error('an HTTP filter needs at least one rule');
  if (f.match === FilterMatch.all) return (r) => rules.every((m) => m(r));
  if (f.match === FilterMatch.any) return (r) => rules.some((m) => m(r));
  throw new Error(`unknown HTTP filter match ${f.match}`);
}

/** Node's rawHeaders (`[name, value, name, value, …]`) as pairs. */
export function headerPairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** One line describing a wire filter, for progress lines and errors. */
export function describeFilter(f: WireFilter): string {
  const names = { [FilterField.header]: 'header', [FilterField.path]: 'path', [FilterField.method]: 'method' } as Record<number, string>;
  const parts = f.rules.map((r) => `${names[r.field] ?? '?'} ${r.pattern}`);
  if (f.match === FilterMatch.none) return 'unfiltered';
  return parts.length === 1 ? parts[0]! : `${f.match === FilterMatch.all ? 'all of' : 'any of'} (${parts.join('; ')})`;
}
