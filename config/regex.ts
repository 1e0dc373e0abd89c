/**
 * Checks for the two regex dialects the config feeds:
 *
 * - `feature.fs.*` patterns are matched by the C layer with glibc
 *   `regcomp(REG_EXTENDED | REG_ICASE | REG_NOSUB)`. A pattern must compile there AND mean there
 *   what a reader used to JavaScript/Perl regexes thinks it means, so besides glibc's own errors we
 *   reject the constructs glibc silently reads differently (`\d` is a literal `d`, `[\.]` also
 *   matches a backslash, `{,3}`…). Every accepted pattern also compiles as a JavaScript RegExp.
 *   test/unit/config-regex.test.ts runs a table of patterns through the real regcomp to keep this
 *   file honest.
 * - HTTP filters are matched by the agent (TypeScript), so they only need to be JavaScript RegExps.
 *
 * Both return `undefined` when the pattern is fine, else a one-line problem that says what to write
 * instead.
 */

/** glibc's RE_DUP_MAX is 32767 but large counts explode the compiled automaton; keep it small. */
const MAX_REPEAT = 255;

const POSIX_CLASSES = new Set(['alnum', 'alpha', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'xdigit']);

/** What to write instead of a Perl/JavaScript escape that POSIX ERE lacks. */
function escapeAdvice(c: string): string {
  switch (c) {
    case 'd':
      return '`\\d` is Perl syntax (glibc reads it as a literal `d`); write `[0-9]`';
    case 'D':
      return '`\\D` is Perl syntax; write `[^0-9]`';
    case 'n':
    case 'r':
    case 't':
    case 'f':
    case 'v':
    case '0':
      return `\`\\${c}\` is not an escape in POSIX ERE; write the character itself`;
    case 'x':
    case 'u':
    case 'c':
      return `\`\\${c}…\` escapes are not POSIX ERE; write the character itself`;
    case 'p':
    case 'P':
      return `\`\\${c}{…}\` Unicode classes are not POSIX ERE; use a bracket class such as \`[[:alpha:]]\``;
    case 'A':
      return '`\\A` is Perl syntax; write `^`';
    case 'z':
    case 'Z':
      return `\`\\${c}\` is Perl syntax; write \`$\``;
    case 'k':
      return '`\\k<name>` named back-references are not POSIX ERE; use a numbered one like `\\1`';
    case '<':
    case '>':
      return `\`\\${c}\` is a word anchor in glibc but a plain \`${c}\` in JavaScript; write \`${c}\` without the backslash`;
    case '`':
    case "'":
      return `\`\\${c}\` is a buffer anchor in glibc; write \`${c === '`' ? '^' : '$'}\` or drop the backslash`;
    default:
      return `\`\\${c}\` has no meaning in POSIX ERE (glibc reads a literal \`${c}\`); write \`${c}\``;
  }
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

/**
 * Returns undefined if `pattern` is a POSIX extended regex that glibc compiles with the meaning a
 * JavaScript reader expects, else what is wrong and what to write instead.
 */
export function posixEreProblem(pattern: string): string | undefined {
  if (pattern === '') return 'an empty pattern matches every path; write `.*` if that is what you mean';
  // The layer receives the lists newline-separated, and C strings end at NUL.
  if (/[\n\r\0]/.test(pattern)) return 'a pattern cannot contain a line break or NUL';
  const problem = posixProblem(pattern);
  if (problem) return problem;
  // Last: what POSIX allows but JavaScript refuses (e.g. `a**`, an unmatched `)`).
  try {
    new RegExp(pattern);
  } catch (err) {
    return `not a valid regex: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`;
  }
  return undefined;
}

/** The POSIX side of posixEreProblem: glibc's errors plus the constructs it reads differently. */
function posixProblem(pattern: string): string | undefined {
  let i = 0;
  // Whether a repetition operator may follow: glibc rejects one at the start of the pattern, after
  // `(`, `|`, `^` or `$` (REG_BADRPT).
  let canRepeat = false;
  let groups = 0;
  const open: number[] = [];
  const closed = new Set<number>();
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) return 'trailing backslash; write `\\\\` for a literal backslash';
      if ('wWsS'.includes(n)) canRepeat = true;
      else if ('bB'.includes(n)) canRepeat = false;
      else if (/[1-9]/.test(n)) {
        if (!closed.has(Number(n))) return `back-reference \`\\${n}\` refers to a group that is not complete at that point`;
        canRepeat = true;
      } else if (/[A-Za-z0-9<>`']/.test(n)) return escapeAdvice(n);
      else canRepeat = true; // `\.`, `\/`, `\(`… are literals in both dialects
      i += 2;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') return groupAdvice(pattern.slice(i + 1));
      groups += 1;
      open.push(groups);
      canRepeat = false;
      i += 1;
      continue;
    }
    if (c === ')') {
      const g = open.pop();
      if (g === undefined) return 'unmatched `)`; write `\\)` for a literal parenthesis';
      closed.add(g);
      canRepeat = true;
      i += 1;
      continue;
    }
    if (c === '|' || c === '^' || c === '$') {
      canRepeat = false;
      i += 1;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      if (!canRepeat) return `\`${c}\` has nothing to repeat; write \`\\${c}\` for a literal \`${c}\``;
      i += 1;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(i));
      if (!m) return '`{` starts a repeat count like `{2,5}` in POSIX ERE; write `\\{` for a literal brace';
      if (!canRepeat) return `\`${m[0]}\` has nothing to repeat; write \`\\{\` for a literal brace`;
      const [, lo, comma, hi] = m;
      if (lo === '') return `\`${m[0]}\` is read differently by glibc and JavaScript; write \`{0${comma}${hi}}\``;
      if (Number(lo) > MAX_REPEAT || (hi !== '' && Number(hi) > MAX_REPEAT)) return `repeat counts above ${MAX_REPEAT} are not allowed`;
      if (hi !== '' && Number(hi) < Number(lo)) return `\`${m[0]}\`: the minimum is larger than the maximum`;
      i += m[0].length;
      continue;
    }
    if (c === '[') {
      const r = bracket(pattern, i);
      if (typeof r === 'string') return r;
      i = r;
      canRepeat = true;
      continue;
    }
    canRepeat = true;
    i += 1;
  }
  if (open.length) return 'unmatched `(`';
  return undefined;
}

/** Parses a POSIX bracket expression starting at `[`; returns the index after `]`, or a problem. */
function bracket(p: string, start: number): number | string {
  let i = start + 1;
  if (p[i] === '^') i += 1;
  if (p[i] === ']')
    return '`]` right after `[` is a literal in POSIX but ends the class in JavaScript; match it outside brackets, e.g. `(]|[abc])`';
  // Previous item: a single character (may start a range), or something that may not.
  let prev: { kind: 'char'; ch: string } | { kind: 'other' } | undefined;
  let afterRange = false;
  for (;;) {
    const c = p[i];
    if (c === undefined) return 'unmatched `[`; write `\\[` for a literal bracket';
    if (c === ']') return i + 1;
    if (c === '\\')
      return '`\\` inside `[…]` is a literal backslash in POSIX ERE; write the characters without it (`[.]` not `[\\.]`, `[0-9]` not `[\\d]`, `[[:space:]]` not `[\\s]`)';
    if (c === '[' && (p[i + 1] === ':' || p[i + 1] === '=' || p[i + 1] === '.')) {
      const kind = p[i + 1]!;
      const end = p.indexOf(`${kind}]`, i + 2);
      if (end < 0) return `unterminated \`[${kind}\` inside a bracket expression`;
      const name = p.slice(i + 2, end);
      if (kind !== ':') return `\`[${kind}${name}${kind}]\` collating elements are not supported; write the character itself`;
      if (!POSIX_CLASSES.has(name))
        return `\`[:${name}:]\` is not a POSIX character class; use one of ${[...POSIX_CLASSES].map((n) => `[:${n}:]`).join(' ')}`;
      prev = { kind: 'other' };
      afterRange = false;
      i = end + 2;
      continue;
    }
    if (c === '-' && prev && p[i + 1] !== ']') {
      const hi = p[i + 1];
      if (hi === undefined) return 'unmatched `[`; write `\\[` for a literal bracket';
      if (prev.kind !== 'char' || afterRange)
        return 'a `-` in the middle of `[…]` after a range or class is an error in glibc; put a literal `-` first or last in the brackets';
      if (hi === '[' && (p[i + 2] === ':' || p[i + 2] === '=' || p[i + 2] === '.'))
        return 'a range cannot end in a character class; put a literal `-` first or last in the brackets';
      if (hi === '\\')
        return '`\\` inside `[…]` is a literal backslash in POSIX ERE; write the characters without it';
      if (hi.codePointAt(0)! < prev.ch.codePointAt(0)!) return `range \`${prev.ch}-${hi}\` is out of order`;
      prev = { kind: 'other' };
      afterRange = true;
      i += 2;
      continue;
    }
    prev = { kind: 'char', ch: c };
    afterRange = false;
    i += 1;
  }
}

/** For HTTP filters (matched by the agent with JavaScript RegExp, case-insensitive). */
export function jsRegexProblem(pattern: string): string | undefined {
  if (pattern === '') return 'an empty filter matches every request; remove the key instead';
  try {
    new RegExp(pattern, 'i');
    return undefined;
  } catch (err) {
    if (/^\(\?[a-zA-Z]+\)/.test(pattern)) return '`(?i)`-style flags are not supported; drop them (filters already match case-insensitively)';
    if (pattern.includes('(?P<')) return 'write named groups as `(?<name>…)`, not `(?P<name>…)`';
    return `not a valid regex: ${(err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`;
  }
}
