/**
 * The one failure of the config package. Match on `code`, never on the text: two copies of podlink
 * can share a process, and messages get better over time.
 *
 * `message` is always one line: where (file, or file:line:col for syntax errors), the key path
 * (`feature.network.incoming.http_filter.header_filter`), what was expected and, for a misspelled
 * key or value, "did you mean `…`?". `hint` names the way out; the CLI prints
 * `podlink: <message> (<hint>)`.
 */
export type ConfigErrorCode =
  /** `-f FILE` or `PODLINK_CONFIG_FILE` names a file that does not exist. */
  | 'CONFIG_NOT_FOUND'
  /** The file exists but cannot be read (permissions, a directory…). */
  | 'CONFIG_UNREADABLE'
  /** The file's extension is not one of .json, .jsonc, .yaml, .yml, .toml. */
  | 'CONFIG_FORMAT'
  /** Several candidate files were found by discovery and podlink will not guess. */
  | 'CONFIG_AMBIGUOUS'
  /** JSON/YAML/TOML syntax error (message carries line:col). */
  | 'CONFIG_SYNTAX'
  /** A `{{ … }}` template could not be rendered (unset variable, unsupported construct). */
  | 'CONFIG_TEMPLATE'
  /** A key podlink does not know (typo, or a key from neither podlink nor mirrord). */
  | 'CONFIG_UNKNOWN_KEY'
  /** A mirrord key (or value) podlink does not support yet. */
  | 'CONFIG_UNSUPPORTED'
  /** A known key with a wrong type or value (including invalid regexes and filter patterns). */
  | 'CONFIG_INVALID_VALUE';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Exit status the CLI uses for any config failure. */
  readonly exitCode = 1;
  /** Dotted key path with `[i]` for list items, e.g. `feature.fs.read_only[2]`. */
  readonly keyPath?: string;
  readonly hint?: string;
  /** File (as shown to the user) or `command line` for CLI overrides. */
  readonly source?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    where: Pick<ConfigError, 'keyPath' | 'hint' | 'source' | 'line' | 'column'> = {},
  ) {
    super(message);
    Object.assign(this, where);
  }
}

/** Renders a key path like `feature.fs.read_only[2]` from zod-style path segments. */
export function keyPathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(seg))) out += out ? `.${String(seg)}` : String(seg);
    // Map keys such as label names (`app.kubernetes.io/name`) would make a dotted path ambiguous.
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}
