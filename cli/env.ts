/**
 * The environment the user's process starts with: the local environment, overlaid with the target's
 * (remote wins), filtered by `feature.env.include` / `exclude`, then `override` on top.
 */

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

export function mergeEnv(
  local: Record<string, string | undefined>,
  remote: { name: string; value: string }[],
  feature: EnvFeature,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(local)) if (v !== undefined) env[k] = v;
  for (const [k, v] of selectRemote(remote, feature)) env[k] = v;
  if (feature.enabled) Object.assign(env, feature.override);
  return env;
}
