/**
 * Renders the `{{ get_env(name="X", default="y") }}` templates of a config file before it is parsed,
 * the subset of mirrord's Tera templating that podlink supports:
 *
 * - `{{ get_env(name="X") }}` / `{{ get_env(name='X', default='y') }}` (quotes: `"`, `'` or a
 *   backtick; `\"` too, so a template inside a JSON string may escape its quotes). An unset
 *   variable without a default is an error naming it.
 * - `{{-` / `-}}` trim the whitespace on that side, `{# … #}` is a comment.
 * - Anything else (`{% if %}`, filters, `{{ key }}`, `{{ git_branch }}`) is an error that says
 *   it is not supported yet, never rendered as something surprising.
 *
 * One deliberate improvement on mirrord: a value rendered inside a double-quoted string is escaped
 * for that string (`"` → `\"`, `\` → `\\`), so a Windows path or a quote in a variable cannot break
 * the file or change its meaning. Everywhere else the value goes in as is.
 *
 * Why no template engine: the only maintained Tera-like engines for Node (nunjucks, liquid) cannot
 * read what real mirrord files contain — a template inside a JSON string with escaped quotes,
 * `get_env(name=\"USER\")` — and would render every other Jinja construct (loops, filters) that
 * mirrord users do not write and podlink would then have to document. The one function mirrord's
 * configs use is a pattern and forty lines; everything else is refused by name.
 */
import { ConfigError } from './errors.js';

export type ConfigFormat = 'json' | 'yaml' | 'toml';

export interface TemplateContext {
  env: Record<string, string | undefined>;
  format: ConfigFormat;
  /** The file as shown to the user, for error messages. */
  source: string;
}

const TAG = /\{\{(-?)([\s\S]*?)(-?)\}\}|\{%(-?)([\s\S]*?)(-?)%\}|\{#[\s\S]*?#\}/g;

export function renderTemplates(text: string, ctx: TemplateContext): string {
  if (!/\{[{%#]/.test(text)) return text;
  // NUL marks the placeholders below; a config file has no business containing one.
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw templateError(ctx, text, nul, 'cannot be rendered: the file contains a NUL byte', 'save it as plain UTF-8 text');
  // Pass 1: evaluate each tag and leave a placeholder, so that pass 2 can tell (on text whose own
  // quotes are no longer confused by the quotes inside tags) whether the tag sat inside a string.
  const values: string[] = [];
  let out = '';
  let last = 0;
  let trimNext = false;
  const ranges: [number, number][] = [];
  for (const m of text.matchAll(TAG)) {
    const at = m.index;
    ranges.push([at, at + m[0].length]);
    let before = text.slice(last, at);
    if (trimNext) before = before.replace(/^\s+/, '');
    const [whole, lTrim, expr, rTrim, sTrimL] = m;
    if (lTrim === '-' || sTrimL === '-') before = before.replace(/\s+$/, '');
    out += before;
    last = at + whole.length;
    trimNext = rTrim === '-' || m[6] === '-';
    if (whole.startsWith('{#')) continue;
    if (whole.startsWith('{%'))
      throw templateError(ctx, text, at, `\`${oneLine(whole)}\`: template statements are not supported by podlink yet`, 'use only {{ get_env(name="X", default="y") }}');
    values.push(evaluate(expr!, ctx, text, at));
    out += `\u0000${values.length - 1}\u0000`;
  }
  let tail = text.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  out += tail;
  // An opener that no tag consumed is unclosed (Tera refuses the file; so do we).
  for (const m of text.matchAll(/\{\{|\{%/g)) {
    if (ranges.some(([a, b]) => m.index >= a && m.index < b)) continue;
    throw templateError(ctx, text, m.index, `unclosed \`${m[0]}\``, `close it with \`${m[0] === '{{' ? '}}' : '%}'}\``);
  }
  // Pass 2: substitute, escaping values that land inside double-quoted strings.
  const quoting = placeholderQuoting(out, ctx.format);
  return out.replace(/\u0000(\d+)\u0000/g, (_, n: string) => {
    const v = values[Number(n)]!;
    switch (quoting.get(Number(n))) {
      case 'dq':
        return JSON.stringify(v).slice(1, -1);
      case 'sq':
        return ctx.format === 'yaml' ? v.replace(/'/g, "''") : v;
      default:
        return v;
    }
  });
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}

function templateError(ctx: TemplateContext, text: string, at: number, what: string, hint: string): ConfigError {
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return new ConfigError('CONFIG_TEMPLATE', `${ctx.source}:${line}:${column}: template ${what}`, { hint, source: ctx.source, line, column });
}

// --- expression: get_env(name="X", default="y") ------------------------------------------------

/** A literal argument: a quoted string (`"`, `'`, a backtick, or `\"` inside a JSON string), a number, true/false. */
const LITERAL = /^(?:(\\?)(["'`])([\s\S]*?)\1\2|(-?\d+(?:\.\d+)?|true|false)\b)/;

function evaluate(expr: string, ctx: TemplateContext, text: string, at: number): string {
  const fail = (what: string, hint = 'write {{ get_env(name="X", default="y") }}') => templateError(ctx, text, at, what, hint);
  const src = expr.trim();
  const shown = `\`{{ ${oneLine(src)} }}\``;
  const filters = () => fail(`${shown}: template filters are not supported by podlink yet`, 'use the default argument: get_env(name="X", default="y")');
  const word = /^[A-Za-z_]\w*/.exec(src)?.[0];
  let rest = src.slice(word?.length ?? 0).trimStart();
  if (word === undefined) throw fail(`${shown} is not supported by podlink yet`);
  if (rest === '' && (word === 'key' || word === 'git_branch'))
    throw fail(`${shown}: the \`${word}\` variable is not supported by podlink yet`, 'use get_env(name="X") with a variable you set');
  if (rest === '') throw fail(`${shown}: unknown variable \`${word}\``);
  if (rest.startsWith('|')) throw filters();
  if (!rest.startsWith('(')) throw fail(`${shown} is not supported by podlink yet`);
  if (word !== 'get_env') throw fail(`${shown}: the function \`${word}\` is not supported by podlink yet (only get_env)`);
  const args = new Map<string, string>();
  rest = rest.slice(1).trimStart();
  while (!rest.startsWith(')')) {
    const arg = /^(\w+)\s*=\s*/.exec(rest);
    if (!arg) throw fail(`${shown}: expected \`name=value\` arguments`);
    const name = arg[1]!;
    const lit = LITERAL.exec(rest.slice(arg[0].length));
    if (!lit) throw fail(`${shown}: the value of \`${name}\` must be a quoted string, a number or true/false`);
    if (name !== 'name' && name !== 'default') throw fail(`${shown}: get_env takes \`name\` and \`default\`, not \`${name}\``);
    if (args.has(name)) throw fail(`${shown}: \`${name}\` is given twice`);
    args.set(name, lit[3] ?? lit[4]!);
    rest = rest.slice(arg[0].length + lit[0].length).trimStart();
    if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
    else if (!rest.startsWith(')')) throw fail(`${shown}: expected \`,\` or \`)\``);
  }
  rest = rest.slice(1).trim();
  if (rest.startsWith('|')) throw filters();
  if (rest !== '') throw fail(`${shown}: unexpected \`${rest}\` after get_env(…)`);
  const name = args.get('name');
  if (!name) throw fail(`${shown}: get_env needs name="VARIABLE"`);
  const value = ctx.env[name] ?? args.get('default');
  if (value !== undefined) return value;
  throw fail(`get_env(name="${name}"): environment variable ${name} is not set and no default is given`, `set ${name}, or add default="…"`);
}

// --- where placeholders sit -------------------------------------------------------------------------

/**
 * The strings and comments of each format, in the order a reader meets them. In YAML a quote opens a
 * quoted scalar only where a value or key may start, and `#` starts a comment only after whitespace.
 * An unterminated string or comment runs to the end of its line (or of the file).
 */
const SPANS: Record<ConfigFormat, RegExp> = {
  json: /"(?:[^"\\\n]|\\.)*"?|\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g,
  toml: /"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:[^"\\\n]|\\.)*"?|'[^'\n]*'?|#[^\n]*/g,
  yaml: /(?<=(?:^|[:\-[{,?])[ \t]*)(?:"(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?)|(?<=^|\s)#[^\n]*/gm,
};

/** For each placeholder inside a string: double-quoted (escape-processing) or single-quoted. Absent = neither. */
function placeholderQuoting(text: string, format: ConfigFormat): Map<number, 'dq' | 'sq'> {
  const found = new Map<number, 'dq' | 'sq'>();
  for (const m of text.matchAll(SPANS[format])) {
    const kind = m[0].startsWith('"') ? 'dq' : m[0].startsWith("'") && !m[0].startsWith("'''") ? 'sq' : undefined;
    if (kind) for (const p of m[0].matchAll(/\u0000(\d+)\u0000/g)) found.set(Number(p[1]), kind);
  }
  return found;
}
