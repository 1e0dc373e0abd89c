/**
 * Checks for the two regex dialects the config feeds:
 *
 * - `feature.fs.*` patterns are matched by the C layer with glibc
 *   `regcomp(REG_EXTENDED | REG_ICASE | REG_NOSUB)`. Whether a pattern compiles is asked of that very
 *   regcomp, through podlink-regcheck (layer/tools/regcheck.c, built with the layer), and its error
 *   code is turned into advice. What regcomp accepts but reads differently from what a reader used
 *   to JavaScript/Perl regexes means (`\d` is a literal `d`, `[\.]` also matches a backslash,
 *   `{,3}`, `(?i)`…) no compiler can report, so those few habits are refused here first, with what
 *   to write instead. Every accepted pattern also compiles as a JavaScript RegExp.
 * - HTTP filters are matched by the agent (TypeScript), so they only need to be JavaScript RegExps.
 *
 * Both return `undefined` when the pattern is fine, else a one-line problem that says what to write
 * instead.
 */
import { execFileSync } from 'node:child_process';
import { regcheckHelper } from '../common/paths.js';

/** glibc's RE_DUP_MAX is 32767 but large counts explode the compiled automaton; keep it small. */
const MAX_REPEAT = 255;

/** What to write instead of a Perl/JavaScript escape that POSIX ERE lacks (or reads differently). */
const ESCAPE_ADVICE: Record<string, string> = {
  d: '`\\d` is Perl syntax (glibc reads it as a literal `d`); write `[0-9]`',
  D: '`\\D` is Perl syntax; write `[^0-9]`',
  A: '`\\A` is Perl syntax; write `^`',
  k: '`\\k<name>` named back-references are not POSIX ERE; use a numbered one like `\\1`',
  ...Object.fromEntries(['n', 'r', 't', 'f', 'v', '0'].map((c) => [c, `\`\\${c}\` is not an escape in POSIX ERE; write the character itself`])),
  ...Object.fromEntries(['x', 'u', 'c'].map((c) => [c, `\`\\${c}…\` escapes are not POSIX ERE; write the character itself`])),
  ...Object.fromEntries(['p', 'P'].map((c) => [c, `\`\\${c}{…}\` Unicode classes are not POSIX ERE; use a bracket class such as \`[[:alpha:]]\``])),
  ...Object.fromEntries(['z', 'Z'].map((c) => [c, `\`\\${c}\` is Perl syntax; write \`$\``])),
  ...Object.fromEntries(['<', '>'].map((c) => [c, `\`\\${c}\` is a word anchor in glibc but a plain \`${c}\` in JavaScript; write \`${c}\` without the backslash`])),
  '`': '`\\`` is a buffer anchor in glibc; write `^` or drop the backslash',
  "'": "`\\'` is a buffer anchor in glibc; write `$` or drop the backslash",
};

function escapeAdvice(c: string): string {
  return ESCAPE_ADVICE[c] ?? `\`\\${c}\` has no meaning in POSIX ERE (glibc reads a literal \`${c}\`); write \`${c}\``;
}

function groupAdvice(rest: string): string {
  if (rest.startsWith('?:')) return '`(?:…)` is Perl syntax; write a plain group `(…)`';
  if (/^\?[a-zA-Z-]+\)/.test(rest) || /^\?[a-zA-Z-]+:/.test(rest))
    return '`(?i)`-style flags are Perl syntax; drop them (fs patterns already match case-insensitively)';
  if (rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<=') || rest.startsWith('?<!'))
    return 'lookarounds do not exist in POSIX ERE; list the exceptions in another fs list instead (e.g. `local`)';
  if (rest.startsWith('?<') || rest.startsWith('?P<') || rest.startsWith("?'"))
    return 'named groups are not POSIX ERE; write a plain group `(…)`';
  if (rest.startsWith('?#')) return '`(?#…)` comments are not POSIX ERE; remove them';
  if (rest.startsWith('?>')) return 'atomic groups are not POSIX ERE; write a plain group `(…)`';
  return '`(?` starts Perl syntax that POSIX ERE lacks; write a plain group `(…)`';
}

/** regcomp's error codes (regex.h) → what to write instead; others get glibc's own message. */
const REGCOMP_ADVICE: Record<number, string> = {
  3: 'collating elements are not supported; write the character itself',
  4: 'not a POSIX character class; use one of [:alnum:] [:alpha:] [:blank:] [:cntrl:] [:digit:] [:graph:] [:lower:] [:print:] [:punct:] [:space:] [:upper:] [:xdigit:]',
  5: 'trailing backslash; write `\\\\` for a literal backslash',
  6: 'a back-reference refers to a group that is not complete at that point',
  7: 'unmatched `[`; write `\\[` for a literal bracket',
  8: 'unmatched `(` or `)`; write `\\(` or `\\)` for a literal parenthesis',
  9: '`{` starts a repeat count like `{2,5}` in POSIX ERE; write `\\{` for a literal brace',
  10: 'invalid repeat count: a number is missing or the minimum is larger than the maximum; write `\\{` for a literal brace',
  11: 'invalid range in `[…]`: out of order, or a `-` after a range or class (put a literal `-` first or last in the brackets)',
  13: '`*`, `+`, `?` or `{` has nothing to repeat; write `\\*`, `\\+`, `\\?` or `\\{` for the literal character',
};

/** The Perl/JavaScript habits glibc compiles with another meaning (or a count too large to be wise). */
function divergence(p: string): string | undefined {
  if (p === '') return 'an empty pattern matches every path; write `.*` if that is what you mean';
  // The layer receives the lists newline-separated, and C strings end at NUL.
  if (/[\n\r\0]/.test(p)) return 'a pattern cannot contain a line break or NUL';
  for (let i = 0; i < p.length; i += 1) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      // \w \s \b and back-references mean the same in both; regcomp judges the rest (a trailing `\`).
      if (n !== undefined && /[A-Za-z0-9<>`']/.test(n) && !/[wWsSbB1-9]/.test(n)) return escapeAdvice(n);
      i += 1;
    } else if (c === '(' && p[i + 1] === '?') return groupAdvice(p.slice(i + 1));
    else if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(p.slice(i));
      if (m?.[1] === '' && m[2] === ',') return `\`${m[0]}\` is read differently by glibc and JavaScript; write \`{0,${m[3]}}\``;
      if (m && Math.max(Number(m[1]), Number(m[3] || 0)) > MAX_REPEAT) return `repeat counts above ${MAX_REPEAT} are not allowed`;
    } else if (c === '[') {
      let j = i + 1 + (p[i + 1] === '^' ? 1 : 0);
      if (p[j] === ']') return '`]` right after `[` is a literal in POSIX but ends the class in JavaScript; match it outside brackets, e.g. `(]|[abc])`';
      for (; j < p.length && p[j] !== ']'; j += 1) {
        if (p[j] === '\\')
          return '`\\` inside `[…]` is a literal backslash in POSIX ERE; write the characters without it (`[.]` not `[\\.]`, `[0-9]` not `[\\d]`, `[[:space:]]` not `[\\s]`)';
        const kind = p[j + 1];
        if (p[j] === '[' && (kind === '.' || kind === '=')) return `\`[${kind}…${kind}]\` collating elements are not supported; write the character itself`;
        if (p[j] === '[' && kind === ':') j = p.indexOf(':]', j + 2) < 0 ? p.length : p.indexOf(':]', j + 2) + 1;
      }
      i = j;
    }
  }
  return undefined;
}

/** glibc regcomp's verdict on each pattern, from podlink-regcheck: undefined = compiles. */
function regcomp(patterns: string[]): (string | undefined)[] {
  if (patterns.length === 0) return [];
  const out = execFileSync(regcheckHelper, { input: patterns.map((p) => `${p}\0`).join(''), maxBuffer: 1 << 26 }).toString();
  return out
    .split('\n')
    .slice(0, patterns.length)
    .map((line) => {
      const m = /^err (\d+) (.*)$/.exec(line);
      return m ? (REGCOMP_ADVICE[Number(m[1])] ?? `regcomp refuses it: ${m[2]}`) : undefined;
    });
}

/**
 * For each pattern: undefined if it is a POSIX extended regex that glibc compiles with the meaning a
 * JavaScript reader expects, else what is wrong and what to write instead. One helper run per call.
 */
export function posixEreProblems(patterns: readonly string[]): (string | undefined)[] {
  const problems = patterns.map(divergence);
  const asked = patterns.filter((_, i) => problems[i] === undefined);
  const verdicts = regcomp(asked);
  return problems.map((problem, i) => {
    if (problem !== undefined) return problem;
    const verdict = verdicts[asked.indexOf(patterns[i]!)];
    if (verdict !== undefined) return verdict;
    // Last: what POSIX allows but JavaScript refuses (e.g. `a**`).
    const js = jsCompileError(patterns[i]!);
    return js === undefined ? undefined : `not a valid regex: ${js}`;
  });
}

/** For HTTP filters (matched by the agent with JavaScript RegExp, case-insensitive). */
export function jsRegexProblem(pattern: string): string | undefined {
  if (pattern === '') return 'an empty filter matches every request; remove the key instead';
  const js = jsCompileError(pattern, 'i');
  if (js === undefined) return undefined;
  if (/^\(\?[a-zA-Z]+\)/.test(pattern)) return '`(?i)`-style flags are not supported; drop them (filters already match case-insensitively)';
  if (pattern.includes('(?P<')) return 'write named groups as `(?<name>…)`, not `(?P<name>…)`';
  return `not a valid regex: ${js}`;
}

/** Why JavaScript's RegExp refuses a pattern (without repeating the pattern), or undefined. */
function jsCompileError(pattern: string, flags = ''): string | undefined {
  try {
    new RegExp(pattern, flags);
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
  }
}
