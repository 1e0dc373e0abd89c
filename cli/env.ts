/**
 * The environment the user's process starts with: the local environment, overlaid with the target's
 * (remote wins), filtered by `feature.env.include` / `exclude`, then the variables of `env_file`, then
 * `override` on top.
 */
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { PodlinkError } from './errors.js';

export interface EnvFeature {
  enabled: boolean;
  include?: string[];
  exclude: string[];
  override: Record<string, string>;
}

/** mirrord's env patterns: `*` any run of characters, `?` one character, whole-name match. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function matcher(patterns: string[] | undefined): ((name: string) => boolean) | undefined {
  if (!patterns) return undefined;
  const res = patterns.map(globToRegExp);
  return (name) => res.some((r) => r.test(name));
}

/**
 * Remote variables that apply under `feature.env`: those matching `include` (all when unset) and not
 * `exclude`. The config loader has already removed from `exclude` any default that `include` names.
 */
export function selectRemote(remote: { name: string; value: string }[], feature: EnvFeature): Map<string, string> {
  const out = new Map<string, string>();
  if (!feature.enabled) return out;
  const include = matcher(feature.include);
  const exclude = matcher(feature.exclude)!;
  for (const { name, value } of remote) {
    if ((include && !include(name)) || exclude(name)) continue;
    out.set(name, value);
  }
  return out;
}

/** The variables of a dotenv file (`feature.env.env_file`), relative to `cwd`. */
export function readEnvFile(file: string, cwd: string): Record<string, string> {
  const p = path.resolve(cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    throw new PodlinkError('env_file', `cannot read feature.env.env_file ${p}: ${(e as Error).message}`, 'fix the path, or remove env_file');
  }
  // util.parseEnv (Node >= 20.12) reads dotenv syntax: comments, quotes, `export`.
  return (util as unknown as { parseEnv(text: string): Record<string, string> }).parseEnv(text);
}

export function mergeEnv(
  local: Record<string, string | undefined>,
  remote: { name: string; value: string }[],
  feature: EnvFeature,
  fileVars: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(local)) if (v !== undefined) env[k] = v;
  for (const [k, v] of selectRemote(remote, feature)) env[k] = v;
  if (feature.enabled) Object.assign(env, fileVars, feature.override);
  return env;
}
