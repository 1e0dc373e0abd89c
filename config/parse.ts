/**
 * Text → plain JS value for the three config formats, with syntax errors as one-line ConfigErrors
 * that carry line:col. JSON is JSONC (jsonc-parser): real mirrord.json files carry `//` comments
 * (VS Code treats them as JSONC) and trailing commas.
 */
import { ParseErrorCode, printParseErrorCode, visit } from 'jsonc-parser';
import { ConfigError, keyPathOf } from './errors.js';
import type { ConfigFormat } from './template.js';

/** The format a file name implies, or undefined for an extension podlink does not read. */
export function formatOf(file: string): ConfigFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json') || lower.endsWith('.jsonc')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.toml')) return 'toml';
  return undefined;
}

/**
 * Parses one config document. Empty (or comment-only) text is an empty config. The YAML and TOML
 * parsers are loaded only for files in those formats: they cost ~100 ms of start-up together.
 */
export async function parseConfigText(text: string, format: ConfigFormat, source: string): Promise<unknown> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  switch (format) {
    case 'json':
      return parseJsonc(text, source);
    case 'yaml':
      return parseYaml((await import('yaml')).parseAllDocuments, text, source);
    case 'toml':
      return parseTomlText((await import('smol-toml')).parse, text, source);
  }
}

function syntaxError(source: string, format: string, line: number, column: number, what: string): ConfigError {
  return new ConfigError('CONFIG_SYNTAX', `${source}:${line}:${column}: invalid ${format}: ${what}`, {
    hint: 'fix the file at that position',
    source,
    line,
    column,
  });
}

function parseYaml(parseAllDocuments: typeof import('yaml').parseAllDocuments, text: string, source: string): unknown {
  // An array even when empty (yaml's EmptyStream).
  const list = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  if (list.length === 0) return {};
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? { line: 1, col: 1 };
      const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw syntaxError(source, 'YAML', pos.line, pos.col, what.charAt(0).toLowerCase() + what.slice(1));
    }
  }
  if (list.length > 1) {
    const second = list[1]!.range[0];
    const line = text.slice(0, second).split('\n').length;
    throw syntaxError(source, 'YAML', line, 1, 'a config file holds one document; remove the second `---` document');
  }
  try {
    const value = list[0]!.toJS({ maxAliasCount: 100 }) as unknown;
    return value ?? {};
  } catch (err) {
    throw syntaxError(source, 'YAML', 1, 1, (err as Error).message);
  }
}

function parseTomlText(parseToml: typeof import('smol-toml').parse, text: string, source: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    const e = err as Error & { line?: number; column?: number };
    const what = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw syntaxError(source, 'TOML', e.line ?? 1, e.column ?? 1, what);
  }
}

const JSON_ERRORS: Partial<Record<ParseErrorCode, string>> = {
  [ParseErrorCode.InvalidSymbol]: 'expected a value, found {found}',
  [ParseErrorCode.InvalidNumberFormat]: 'invalid number',
  [ParseErrorCode.PropertyNameExpected]: 'expected a quoted key or `}`, found {found}',
  [ParseErrorCode.ValueExpected]: 'expected a value, found {found}',
  [ParseErrorCode.ColonExpected]: 'expected `:` after the key "{key}", found {found}',
  [ParseErrorCode.CloseBraceExpected]: 'unclosed `{`',
  [ParseErrorCode.CloseBracketExpected]: 'unclosed `[`',
  [ParseErrorCode.EndOfFileExpected]: 'unexpected {found} after the end of the document',
  [ParseErrorCode.UnexpectedEndOfComment]: 'unterminated `/*` comment',
  [ParseErrorCode.UnexpectedEndOfString]: 'unterminated string',
  [ParseErrorCode.InvalidUnicode]: 'invalid `\\u` escape in a string',
  [ParseErrorCode.InvalidEscapeCharacter]: 'invalid escape in a string (in JSON a regex backslash is written `\\\\`)',
  [ParseErrorCode.InvalidCharacter]: 'control characters must be escaped inside strings',
};

/**
 * JSON with `//` and `/* *\/` comments and trailing commas (JSONC, as VS Code reads mirrord.json),
 * read with jsonc-parser's visitor so that the value is built here: a duplicated key is an error
 * (JSON.parse silently keeps the last one) and a key named `__proto__` stays a plain key.
 */
function parseJsonc(text: string, source: string): unknown {
  const fail = (what: string, offset: number) => {
    const before = text.slice(0, offset);
    return syntaxError(source, 'JSON', before.split('\n').length, offset - before.lastIndexOf('\n'), what);
  };
  // Open containers, innermost last; `key` is the object's key whose value comes next (or came last).
  const stack: { value: Record<string, unknown> | unknown[]; key?: string }[] = [];
  let root: unknown;
  const put = (v: unknown) => {
    const top = stack.at(-1);
    if (!top) root = v;
    else if (Array.isArray(top.value)) top.value.push(v);
    else Object.defineProperty(top.value, top.key!, { value: v, enumerable: true, writable: true, configurable: true });
  };
  const open = (v: Record<string, unknown> | unknown[]) => {
    put(v);
    stack.push({ value: v });
  };
  visit(
    text,
    {
      onObjectBegin: () => open({}),
      onArrayBegin: () => open([]),
      onObjectEnd: () => void stack.pop(),
      onArrayEnd: () => void stack.pop(),
      onObjectProperty: (key, offset) => {
        const top = stack.at(-1)!;
        if (Object.hasOwn(top.value, key)) {
          const path = [...stack.slice(0, -1).map((c) => c.key ?? (c.value as unknown[]).length - 1), key];
          throw fail(`\`${keyPathOf(path)}\` is given twice`, offset);
        }
        top.key = key;
      },
      onLiteralValue: (v) => put(v),
      onError: (code, offset) => {
        const top = stack.at(-1);
        const c = text[offset];
        // Nothing but whitespace and comments: an empty config.
        if (code === ParseErrorCode.ValueExpected && root === undefined && offset >= text.length) return;
        const inList = top !== undefined && Array.isArray(top.value);
        let what = JSON_ERRORS[code] ?? printParseErrorCode(code);
        if (code === ParseErrorCode.CommaExpected) what = inList ? 'expected `,` or `]` in the list, found {found}' : 'expected `,` or `}` after the value of "{key}", found {found}';
        if (!top && root !== undefined && c !== undefined) what = JSON_ERRORS[ParseErrorCode.EndOfFileExpected]!;
        if (text[offset] === "'") what = "strings take double quotes in JSON, not `'`";
        const found = c === undefined ? 'end of file' : c === '`' ? '"`"' : `\`${c}\``;
        throw fail(what.replace('{found}', found).replace('{key}', top?.key ?? ''), offset);
      },
    },
    { allowTrailingComma: true, disallowComments: false },
  );
  return root ?? {};
}
