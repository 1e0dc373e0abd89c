/**
 * zod issues → one ConfigError line. Two parts:
 *
 * - `errorMap`, passed to every parse, words the built-in issues ("expected an integer, got
 *   "ten""); custom issues from the schema carry their own words.
 * - `issuesToError` picks the issue to report (unknown keys first: a misspelled key is usually the
 *   cause of what follows), descends into shorthand unions by the type the user actually wrote (a
 *   string in `"fs": "raed"` is reported against the string form, not the object form), and adds
 *   "did you mean" for unknown keys and values.
 */
import type { z } from 'zod';
import { ConfigError, keyPathOf, type ConfigErrorCode } from './errors.js';
import { ACCEPTED_AT_DEFAULT, UNSUPPORTED_MIRRORD_KEYS } from './mirrord.js';
import { jsonSchema } from './schema.js';
import { closest } from './suggest.js';

type Issue = z.core.$ZodIssue;
type Path = PropertyKey[];
type Json = Record<string, unknown>;

/** A value as quoted in a message. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  return 'an object';
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  tuple: 'a list',
  record: 'an object',
  null: 'null',
};

function typeWord(expected: string): string {
  return TYPE_WORDS[expected] ?? expected;
}

function valueList(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** Words for zod's built-in issues (the per-parse error map). */
export const errorMap: z.core.$ZodErrorMap = (raw) => {
  const iss = raw as unknown as Json & { code: string; input: unknown };
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `expected ${typeWord(String(iss.expected))}, got ${describe(iss.input)}`;
    case 'invalid_value': {
      const values = iss.values as unknown[];
      const guess = typeof iss.input === 'string' ? closest(iss.input, values.filter((v): v is string => typeof v === 'string')) : undefined;
      const expected = values.length === 1 ? JSON.stringify(values[0]) : `one of ${valueList(values)}`;
      return `expected ${expected}, got ${describe(iss.input)}${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}`;
    }
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (iss.origin === 'array') return min <= 1 ? 'must not be an empty list' : `expected at least ${min} items`;
      return `expected ${iss.inclusive === false ? 'more than' : 'at least'} ${min}, got ${describe(iss.input)}`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'string') return `must be at most ${max} characters`;
      if (iss.origin === 'array') return `expected at most ${max} items`;
      return `expected ${iss.inclusive === false ? 'less than' : 'at most'} ${max}, got ${describe(iss.input)}`;
    }
    default:
      return undefined;
  }
};

// --- the JSON Schema, walked for the keys allowed at a path -------------------------------------------

let schemaCache: Json | undefined;
function schema(): Json {
  return (schemaCache ??= jsonSchema());
}

/** Every sub-schema a node may be (anyOf/oneOf/allOf flattened). */
function alternatives(node: unknown): Json[] {
  if (!node || typeof node !== 'object') return [];
  const n = node as Json;
  return [n, ...['anyOf', 'oneOf', 'allOf'].flatMap((k) => (Array.isArray(n[k]) ? (n[k] as unknown[]).flatMap(alternatives) : []))];
}

/** The schemas a list item (number) or key (string) of a node may have. */
function childSchemas(node: unknown, seg: PropertyKey): Json[] {
  return alternatives(node).flatMap((alt): Json[] => {
    const child = typeof seg === 'number' ? (Array.isArray(alt.items) ? alt.items[seg] : alt.items) : Object.hasOwn((alt.properties ?? {}) as Json, seg) ? (alt.properties as Json)[seg as string] : alt.additionalProperties;
    return child && typeof child === 'object' ? [child as Json] : [];
  });
}

/** The keys an object at `path` may have, in schema order (several forms when shorthands allow them). */
export function keysAt(path: Path): string[] {
  const nodes = path.reduce<Json[]>((at, seg) => at.flatMap((n) => childSchemas(n, seg)), [schema()]);
  return [...new Set(nodes.flatMap(alternatives).flatMap((alt) => Object.keys((alt.properties ?? {}) as Json)))];
}

/** `feature.network.incoming.http_filter.all_of[]` style path (list indexes dropped). */
export function shapePath(path: Path): string {
  return path.map((seg, i) => (typeof seg === 'number' ? '[]' : i ? `.${String(seg)}` : String(seg))).join('');
}

/** The documented key a path falls under: list items and map entries belong to their key. */
export function docKeyOf(path: Path): string {
  const keys: string[] = [];
  for (const seg of path) {
    if (typeof seg !== 'string' || !keysAt(keys).includes(seg)) break;
    keys.push(seg);
  }
  return keys.join('.');
}

/** The value at `path` inside `input` (undefined where the path leaves it). */
export function valueAt(input: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, seg) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[seg] : undefined), input);
}

// --- choosing and wording the one issue to report ------------------------------------------------------

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** What a union branch takes, in words, if it failed only because the value has another type; else undefined. */
function typeTaken(issues: Issue[], value: unknown): string | undefined {
  for (const i of issues) {
    if (i.path.length !== 0) continue;
    if (i.code === 'invalid_type') return typeWord(i.expected);
    if (i.code === 'invalid_value' && !i.values.some((v) => jsonType(v) === jsonType(value))) return i.values.length === 1 ? JSON.stringify(i.values[0]) : valueList(i.values);
  }
  return undefined;
}

function pick(issues: Issue[]): Issue {
  return issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
}

interface Found {
  code: ConfigErrorCode;
  path: Path;
  message: string;
  hint?: string;
}

function explain(issue: Issue, base: Path, input: unknown): Found {
  const path = [...base, ...issue.path];
  const value = valueAt(input, path);
  if (issue.code === 'invalid_union') {
    const branches = (issue.errors ?? []) as Issue[][];
    // The first branch that takes this type of value says what is wrong with it; if none does, list what they take.
    const relevant = branches.find((b) => b.length > 0 && typeTaken(b, value) === undefined);
    if (relevant) return explain(pick(relevant), path, input);
    const expected = [...new Set(branches.map((b) => typeTaken(b, value)).filter((w) => w !== undefined))];
    const words = expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}` : (expected[0] ?? 'another value');
    return { code: 'CONFIG_INVALID_VALUE', path, message: `expected ${words}, got ${describe(value)}` };
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const where = shapePath(path);
    const keyPath = [...path, key];
    if (UNSUPPORTED_MIRRORD_KEYS[where]?.includes(key))
      return { code: 'CONFIG_UNSUPPORTED', path: keyPath, message: 'a mirrord key podlink does not support yet', hint: 'remove it; docs/config.md lists the keys podlink supports' };
    const known = keysAt(path).filter((k) => k !== '$schema');
    const guess = closest(key, known);
    return {
      code: 'CONFIG_UNKNOWN_KEY',
      path: keyPath,
      message: `unknown key${guess ? `; did you mean \`${guess}\`?` : ''}`,
      hint: `keys allowed in ${where === '' ? 'the top level' : where}: ${known.join(', ')}`,
    };
  }
  const accepted = ACCEPTED_AT_DEFAULT[shapePath(path)];
  if (accepted && issue.code === 'invalid_value')
    return {
      code: 'CONFIG_UNSUPPORTED',
      path,
      message: `a mirrord key podlink does not support yet (${accepted.why}); only ${JSON.stringify(accepted.value)} is accepted`,
      hint: 'remove it, or set it to false',
    };
  const params = (issue as { params?: { podlinkCode?: ConfigErrorCode } }).params;
  const code = params?.podlinkCode ?? 'CONFIG_INVALID_VALUE';
  return { code, path, message: issue.message };
}

/** The one error to show for a failed parse. */
export function issuesToError(issues: Issue[], input: unknown, source: string): ConfigError {
  const found = explain(pick(issues), [], input);
  const keyPath = keyPathOf(found.path);
  const where = keyPath === '' ? `${source}:` : `${source}: ${keyPath}:`;
  const docKey = docKeyOf(found.path);
  const hint = found.hint ?? (docKey === '' ? 'a config file is an object of keys; see docs/config.md' : `see ${docKey} in docs/config.md`);
  return new ConfigError(found.code, `${where} ${found.message}`, { keyPath, hint, source });
}
