/**
 * Text → plain JS value for the three config formats, with syntax errors as one-line ConfigErrors
 * that carry line:col.
 *
 * JSON is read by a small parser of our own rather than JSON.parse because real mirrord.json files
 * carry `//` comments (VS Code treats them as JSONC) and trailing commas, and because it can name
 * the line, the column and a duplicated key — JSON.parse silently keeps the last duplicate.
 */
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
      return new JsonParser(text, source).document();
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
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
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

/** JSON with `//` and `/* *\/` comments and trailing commas (JSONC, as VS Code reads mirrord.json). */
class JsonParser {
  private i = 0;
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  document(): unknown {
    this.skip();
    if (this.i >= this.text.length) return {};
    const v = this.value();
    this.skip();
    if (this.i < this.text.length) throw this.fail(`unexpected ${this.show()} after the end of the document`);
    return v;
  }

  private fail(what: string, at = this.i): ConfigError {
    const before = this.text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    return syntaxError(this.source, 'JSON', line, column, what);
  }

  private show(): string {
    if (this.i >= this.text.length) return 'end of file';
    const c = this.text[this.i]!;
    return c === '`' ? '"`"' : `\`${c}\``;
  }

  /** Skips whitespace and comments. */
  private skip(): void {
    const t = this.text;
    for (;;) {
      while (this.i < t.length && ' \t\r\n'.includes(t[this.i]!)) this.i += 1;
      if (t.startsWith('//', this.i)) {
        const end = t.indexOf('\n', this.i);
        this.i = end < 0 ? t.length : end;
      } else if (t.startsWith('/*', this.i)) {
        const end = t.indexOf('*/', this.i + 2);
        if (end < 0) throw this.fail('unterminated `/*` comment');
        this.i = end + 2;
      } else return;
    }
  }

  private value(): unknown {
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    if (c === "'") throw this.fail("strings take double quotes in JSON, not `'`");
    throw this.fail(`expected a value, found ${this.show()}`);
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const start = this.i;
    this.i += 1;
    for (;;) {
      this.skip();
      if (this.text[this.i] === '}') {
        this.i += 1;
        return out;
      }
      if (this.text[this.i] !== '"') {
        if (this.i >= this.text.length) throw this.fail('unclosed `{`', start);
        throw this.fail(`expected a quoted key or \`}\`, found ${this.show()}`);
      }
      const keyAt = this.i;
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        const where = keyPathOf([...this.path, key]);
        throw this.fail(`\`${where}\` is given twice`, keyAt);
      }
      this.skip();
      if (this.text[this.i] !== ':') throw this.fail(`expected \`:\` after the key "${key}", found ${this.show()}`);
      this.i += 1;
      this.skip();
      this.path.push(key);
      const v = this.value();
      this.path.pop();
      // defineProperty: a key named `__proto__` must stay a plain key.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.skip();
      if (this.text[this.i] === ',') {
        this.i += 1;
        continue;
      }
      if (this.text[this.i] === '}') continue;
      if (this.i >= this.text.length) throw this.fail('unclosed `{`', start);
      throw this.fail(`expected \`,\` or \`}\` after the value of "${key}", found ${this.show()}`);
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    const start = this.i;
    this.i += 1;
    for (;;) {
      this.skip();
      if (this.text[this.i] === ']') {
        this.i += 1;
        return out;
      }
      if (this.i >= this.text.length) throw this.fail('unclosed `[`', start);
      this.path.push(out.length);
      out.push(this.value());
      this.path.pop();
      this.skip();
      if (this.text[this.i] === ',') {
        this.i += 1;
        continue;
      }
      if (this.text[this.i] === ']') continue;
      if (this.i >= this.text.length) throw this.fail('unclosed `[`', start);
      throw this.fail(`expected \`,\` or \`]\` in the list, found ${this.show()}`);
    }
  }

  private string(): string {
    const start = this.i;
    this.i += 1;
    let out = '';
    const t = this.text;
    for (;;) {
      const c = t[this.i];
      if (c === undefined || c === '\n') throw this.fail('unterminated string', start);
      if (c === '"') {
        this.i += 1;
        return out;
      }
      if (c < ' ') throw this.fail('control characters must be escaped inside strings');
      if (c !== '\\') {
        out += c;
        this.i += 1;
        continue;
      }
      const e = t[this.i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) {
        out += simple[e];
        this.i += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(this.i + 2, this.i + 6))) {
        out += String.fromCharCode(parseInt(t.slice(this.i + 2, this.i + 6), 16));
        this.i += 6;
      } else {
        throw this.fail(`invalid escape \`\\${e ?? ''}\` in a string (in JSON a regex backslash is written \`\\\\\`)`);
      }
    }
  }

  private number(): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i));
    if (!m) throw this.fail(`invalid number starting with ${this.show()}`);
    this.i += m[0].length;
    return Number(m[0]);
  }
}
