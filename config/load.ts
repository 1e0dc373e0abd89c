/**
 * loadConfig(): find the config file, render its templates, parse and validate it, lay the
 * command-line flags over it, and return the effective config plus notices for the user.
 *
 * Discovery (first that applies):
 *   1. `file` (the `-f FILE` flag)
 *   2. `PODLINK_CONFIG_FILE`
 *   3. `.podlink/podlink.json`, `.yaml`, `.yml` or `.toml` in `cwd` (two of them: an error)
 *   4. `.mirrord/mirrord.json` in `cwd`, with the notice "using mirrord config .mirrord/mirrord.json"
 *   5. none: the defaults
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './errors.js';
import { errorMap, issuesToError } from './issues.js';
import { configNotices } from './notices.js';
import { formatOf, parseConfigText } from './parse.js';
import { configSchema, type PodlinkConfig, type RawConfig } from './schema.js';
import { renderTemplates } from './template.js';

export type { PodlinkConfig, RawConfig } from './schema.js';
export { unavailableFeatures, refusedValues, defaultConfig } from './unavailable.js';
export { ConfigError } from './errors.js';

export interface LoadConfigOptions {
  /** `-f FILE`, relative to cwd. */
  file?: string;
  cwd: string;
  /** The environment: `PODLINK_CONFIG_FILE` and the variables templates read. */
  env: Record<string, string | undefined>;
  /**
   * Command-line flags as a partial config in the file's layout (object forms, e.g.
   * `{ feature: { fs: { mode: "local" } } }`); validated on their own, then laid over the file's
   * effective config key by key (see overlay()).
   */
  overrides?: RawConfig | Record<string, unknown>;
}

export interface LoadedConfig {
  config: PodlinkConfig;
  /** Absolute path of the file read, if any. */
  source?: string;
  /** One-line messages for the user (no `podlink:` prefix), e.g. which mirrord file was used. */
  notices: string[];
}

export const PODLINK_CANDIDATES = ['.podlink/podlink.json', '.podlink/podlink.yaml', '.podlink/podlink.yml', '.podlink/podlink.toml'];
export const MIRRORD_CANDIDATE = '.mirrord/mirrord.json';
/** Shown in errors about values that came from command-line flags. */
export const OVERRIDES_SOURCE = 'command line';

/** How a path is shown: relative to cwd when inside it. */
function shown(cwd: string, abs: string): string {
  const rel = path.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

const exists = (p: string): Promise<boolean> => fs.stat(p).then(() => true, () => false);

interface Located {
  abs: string;
  shown: string;
  notices: string[];
}

/** Which file to read (undefined: none, use the defaults). */
export async function locateConfig(opts: Pick<LoadConfigOptions, 'file' | 'cwd' | 'env'>): Promise<Located | undefined> {
  // An empty PODLINK_CONFIG_FILE counts as unset.
  const explicit = opts.file ?? (opts.env['PODLINK_CONFIG_FILE'] || undefined);
  if (explicit !== undefined) {
    const abs = path.resolve(opts.cwd, explicit);
    if (!(await exists(abs))) {
      throw new ConfigError('CONFIG_NOT_FOUND', `config file ${shown(opts.cwd, abs)} not found`, {
        hint: opts.file !== undefined ? 'check the file name and the working directory' : 'PODLINK_CONFIG_FILE names it; fix or unset the variable',
        source: shown(opts.cwd, abs),
      });
    }
    return { abs, shown: shown(opts.cwd, abs), notices: [] };
  }
  const found: string[] = [];
  for (const rel of PODLINK_CANDIDATES) if (await exists(path.join(opts.cwd, rel))) found.push(rel);
  if (found.length > 1) {
    throw new ConfigError('CONFIG_AMBIGUOUS', `found ${found.join(' and ')}; podlink reads only one`, {
      hint: 'keep one of them, or choose with -f',
      source: found[0]!,
    });
  }
  if (found.length === 1) return { abs: path.join(opts.cwd, found[0]!), shown: found[0]!, notices: [] };
  if (await exists(path.join(opts.cwd, MIRRORD_CANDIDATE))) {
    return { abs: path.join(opts.cwd, MIRRORD_CANDIDATE), shown: MIRRORD_CANDIDATE, notices: [`using mirrord config ${MIRRORD_CANDIDATE}`] };
  }
  return undefined;
}

/** Reads, renders and parses one file into a raw config object. */
export async function readRawConfig(abs: string, shownAs: string, env: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  const format = formatOf(abs);
  if (!format) {
    throw new ConfigError('CONFIG_FORMAT', `${shownAs}: podlink reads .json, .yaml, .yml and .toml config files`, {
      hint: 'rename the file to the extension of its format',
      source: shownAs,
    });
  }
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${e.code ?? e.message})`;
    throw new ConfigError('CONFIG_UNREADABLE', `config file ${shownAs} ${why}`, { hint: 'point -f at a readable config file', source: shownAs });
  }
  const rendered = renderTemplates(text, { env, format, source: shownAs });
  const raw = await parseConfigText(rendered, format, shownAs);
  if (!isPlainObject(raw)) {
    throw new ConfigError('CONFIG_INVALID_VALUE', `${shownAs}: expected an object of keys at the top level, got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`, {
      keyPath: '',
      hint: 'a config file is an object such as { "target": "deployment/api" }',
      source: shownAs,
    });
  }
  return raw;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Validates a raw config; throws the one ConfigError for the first problem. The result is a copy:
 * zod hands out default values by reference (agent.resources' inner maps), and overlay() writes into
 * the result.
 */
export function validateRawConfig(raw: unknown, source: string): PodlinkConfig {
  const r = configSchema.safeParse(raw, { error: errorMap });
  if (!r.success) throw issuesToError(r.error.issues, raw, source);
  return structuredClone(r.data);
}

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const located = await locateConfig(opts);
  const notices = [...(located?.notices ?? [])];
  const fileRaw = located ? await readRawConfig(located.abs, located.shown, opts.env) : {};
  const config = validateRawConfig(fileRaw, located?.shown ?? OVERRIDES_SOURCE);
  const overrides = (opts.overrides ?? {}) as Record<string, unknown>;
  // Flags are validated on their own, so a bad flag is reported as a flag, not as the file.
  if (Object.keys(overrides).length > 0) overlay(config, validateRawConfig(overrides, OVERRIDES_SOURCE), overrides);
  notices.push(...configNotices(fileRaw, config));
  return { config, notices, ...(located && { source: located.abs }) };
}

/**
 * Lays the keys the flags set (`raw`, in the file's layout) over the file's effective config, taking
 * each value from the flags' own effective config (`flags`), so it is validated and normalised
 * exactly as in a file. Objects merge key by key (`--fs-mode local` keeps the file's `read_only`);
 * a value that is not an object in `raw` (`"target": "pid/7"`) sets the keys it produces and keeps
 * the rest (the file's target namespace). Setting any key of an area with an `enabled` switch
 * (`feature.env`) takes that switch from the flags too: naming variables turns env back on.
 */
function overlay(config: Record<string, unknown>, flags: Record<string, unknown>, raw: Record<string, unknown>): void {
  for (const [key, written] of Object.entries(raw)) {
    const value = flags[key];
    if (isPlainObject(value) && isPlainObject(config[key])) {
      const into = config[key] as Record<string, unknown>;
      if ('enabled' in value) into.enabled = value.enabled;
      if (isPlainObject(written)) overlay(into, value, written);
      else Object.assign(into, value);
    } else if (value !== undefined) config[key] = value;
  }
}
