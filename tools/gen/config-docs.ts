/**
 * What is derived from config/schema.ts: podlink.schema.json, the configuration reference in
 * README.md (between the config-reference markers) and docs/config.md. Written and checked by
 * tools/gen/main.ts.
 *
 * Every key's type and description come from the JSON Schema; its default is the one the effective
 * config really gets (so computed defaults such as feature.env.exclude are shown as they are).
 */
import fs from 'node:fs';
import path from 'node:path';
import { valueAt } from '../../config/issues.js';
import { ACCEPTED_AT_DEFAULT, UNSUPPORTED_MIRRORD_KEYS } from '../../config/mirrord.js';
import { jsonSchema } from '../../config/schema.js';
import { defaultConfig, unavailableList } from '../../config/unavailable.js';

type Json = Record<string, unknown>;

export const START = '<!-- config-reference:start -->';
export const END = '<!-- config-reference:end -->';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
  examples: unknown[];
}

function alternativesOf(node: Json): Json[] {
  return Array.isArray(node.anyOf) ? (node.anyOf as Json[]) : [node];
}

function typeText(node: Json): string {
  const parts = alternativesOf(node).map((a): string => {
    if (Array.isArray(a.enum)) return a.enum.map((v) => JSON.stringify(v)).join(' \\| ');
    if (a.const !== undefined) return JSON.stringify(a.const);
    if (Array.isArray(a.type)) return (a.type as string[]).join(' \\| ');
    switch (a.type) {
      case 'array':
        if (Array.isArray(a.items)) return `[${(a.items as Json[]).map(typeText).join(', ')}]`;
        return a.items ? `list of ${typeText(a.items as Json)}` : 'list';
      case 'object':
        if (a.properties) return 'object';
        return a.additionalProperties && typeof a.additionalProperties === 'object' ? `map of ${typeText(a.additionalProperties as Json)}` : 'object';
      case 'boolean':
        return 'boolean';
      case undefined:
        return 'any';
      default:
        return String(a.type);
    }
  });
  return [...new Set(parts)].join(' \\| ');
}

function defaultText(key: string, node: Json): string {
  const value = node.default !== undefined ? node.default : valueAt(defaultConfig(), key.split('.'));
  if (value === undefined) return '—';
  // An object that only groups optional keys (e.g. target = {} = targetless) has no default of its own.
  if (node.default === undefined && typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0) return '—';
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0 && !Array.isArray(value)) return '`{}`';
  return `\`${JSON.stringify(value)}\``;
}

/** Every documented key, depth first, in schema order. */
export function referenceRows(): Row[] {
  const rows: Row[] = [];
  const walk = (node: Json, prefix: string) => {
    for (const alt of alternativesOf(node)) {
      const props = alt.properties as Record<string, Json> | undefined;
      if (!props) continue;
      for (const [name, child] of Object.entries(props)) {
        if (name === '$schema') continue;
        const key = prefix ? `${prefix}.${name}` : name;
        rows.push({
          key,
          type: typeText(child),
          default: defaultText(key, child),
          description: String(child.description ?? ''),
          examples: Array.isArray(child.examples) ? child.examples : [],
        });
        walk(child, key);
      }
    }
  };
  walk(jsonSchema(), '');
  const unavailable = new Set(unavailableList().map((u) => u.key));
  for (const r of rows) if (unavailable.has(r.key)) r.description += ' *(Validated, but not available in `podlink exec` yet.)*';
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The README's example config: only keys `podlink exec` does today (a unit test loads it and checks). */
export const README_EXAMPLE = `{
  "$schema": "./podlink.schema.json",
  "target": { "path": "deployment/api", "namespace": "staging" },
  "kube_context": "dev-cluster",
  "agent": { "image": "registry.example.com/podlink/agent:0.1.0", "startup_timeout": 90 },
  "feature": {
    "env": { "exclude": ["SECRET_*"], "override": { "DEV_USER": "{{ get_env(name=\\"USER\\", default=\\"unknown\\") }}" } },
    "fs": { "mode": "read", "local": ["^/home/", "\\\\.log$"] },
    "network": { "outgoing": { "udp": false }, "dns": true }
  },
  "internal_proxy": { "log_destination": "/tmp/podlink/" }
}`;

/** The README section between the markers. */
export function readmeSection(): string {
  const lines = [
    START,
    '<!-- Generated from config/schema.ts by `node dist/tools/gen/main.js`; do not edit by hand. -->',
    '',
    'One file per team, checked in: `.podlink/podlink.json` (or `.yaml`, `.yml`, `.toml`), or `-f FILE`, or',
    '`PODLINK_CONFIG_FILE`; an existing `.mirrord/mirrord.json` is read as is. The keys are mirrord\'s, shorthands',
    'included, and `{{ get_env(name="X", default="y") }}` works anywhere in the file. `podlink verify-config` checks',
    'a file and prints the effective config. For completion and checking in editors, write the JSON Schema next to',
    'the file with `podlink schema --output .podlink/podlink.schema.json` and point `"$schema"` at it (the schema is',
    'also committed here as [`podlink.schema.json`](podlink.schema.json)). More in [docs/config.md](docs/config.md).',
    '',
    '```json',
    ...README_EXAMPLE.split('\n'),
    '```',
    '',
    '| Key | Type | Default | Description |',
    '|---|---|---|---|',
    ...referenceRows().map((r) => `| \`${r.key}\` | ${r.type} | ${cell(r.default)} | ${cell(r.description)} |`),
    END,
  ];
  return lines.join('\n');
}

/** README.md with the section put in (created with a title if missing, appended if no markers). */
export function withReadmeSection(current: string | undefined): string {
  const section = readmeSection();
  if (current === undefined) return `# podlink\n\n## Configuration\n\n${section}\n`;
  const a = current.indexOf(START);
  const b = current.indexOf(END);
  if (a >= 0 && b > a) return current.slice(0, a) + section + current.slice(b + END.length);
  return `${current.replace(/\n*$/, '\n')}\n## Configuration\n\n${section}\n`;
}

function unsupportedList(): string {
  return Object.entries(UNSUPPORTED_MIRRORD_KEYS)
    .map(([where, keys]) => `- ${where === '' ? 'top level' : `\`${where}\``}: ${keys.map((k) => `\`${k}\``).join(', ')}`)
    .join('\n');
}

function acceptedList(): string {
  return Object.entries(ACCEPTED_AT_DEFAULT)
    .map(([key, { value, why }]) => `- \`${key}\`: only \`${JSON.stringify(value)}\` (${why})`)
    .join('\n');
}

/** docs/config.md, the long reference. */
export function configDoc(): string {
  const sections = referenceRows().map((r) => {
    const out = [`### \`${r.key}\``, '', `Type: ${r.type.replace(/\\\|/g, '|')} · Default: ${r.default}`, '', r.description];
    for (const ex of r.examples) out.push('', '```json', JSON.stringify(ex, null, 2), '```');
    return out.join('\n');
  });
  return `<!-- Generated from config/schema.ts by \`node dist/tools/gen/main.js\`; do not edit by hand. -->
# Configuration

podlink reads one config file, checked into the repository so the whole team runs the same setup.
The keys are those of mirrord's \`mirrord.json\`, so a team moving from mirrord keeps its files.

## Where podlink looks

1. \`-f FILE\` (\`podlink exec -f …\`, \`podlink verify-config FILE\`)
2. the \`PODLINK_CONFIG_FILE\` environment variable
3. \`.podlink/podlink.json\`, \`.podlink/podlink.yaml\`, \`.podlink/podlink.yml\` or \`.podlink/podlink.toml\` in the
   working directory (having two of them is an error)
4. \`.mirrord/mirrord.json\` in the working directory, with the notice \`using mirrord config .mirrord/mirrord.json\`
5. nothing: every default below

The format follows the extension: \`.json\` (comments and trailing commas allowed, as VS Code allows them in
mirrord.json; \`.jsonc\` too), \`.yaml\`/\`.yml\`, \`.toml\`. Command-line flags of \`podlink exec\` are merged over the
file, objects key by key (a flag \`--fs-mode local\` keeps the file's \`read_only\` list).

## Editor support

\`podlink schema --output .podlink/podlink.schema.json\` writes the JSON Schema (draft-07) of this file. In JSON,
add \`"$schema": "./podlink.schema.json"\` (podlink ignores the key); in YAML, a first line
\`# yaml-language-server: $schema=./podlink.schema.json\`; in TOML (Taplo), \`#:schema ./podlink.schema.json\`.

## Templating

Before it is parsed the file is rendered like mirrord renders it, for the part podlink supports:
\`{{ get_env(name="USER") }}\` or \`{{ get_env(name="USER", default="unknown") }}\` anywhere in the file. A
variable that is unset and has no default is an error naming it. \`{{-\`/\`-}}\` trim whitespace and \`{# … #}\` is a
comment. Inside a JSON string the quotes may be escaped (\`"^X-Dev-User: {{ get_env(name=\\"USER\\") }}$"\`), and a
value that lands inside a double-quoted string is escaped for it (a \`"\` or \`\\\` in the variable cannot break the
file). Other Tera constructs (\`{% if %}\`, filters, \`{{ key }}\`, \`{{ git_branch }}\`) are an error saying they are
not supported yet. podlink renders this itself rather than with a template engine: no maintained Node engine reads a
template with escaped quotes inside a JSON string, as real mirrord files have them (config/template.ts says more).

## Shorthands

As in mirrord: \`"target": "deployment/api"\`; \`"env": true|false\`; \`"fs": "read"|"write"|"local"|"localwithoverrides"|true|false\`;
\`"network": true|false\`; \`"incoming": "mirror"|"steal"|"off"|true|false\`; \`"outgoing": true|false\`; \`"dns": true|false\`;
\`"http_filter": true|false\`; lists given as a single string (\`"read_only": "^/etc/app/"\`, \`"include": "A;B_*"\`).
\`podlink verify-config\` prints the effective config with every shorthand expanded and every default filled.

## Errors

Every problem is one line: the file, the key path, what was expected, and "did you mean" for a misspelled key
or value; syntax errors give \`file:line:column\`. For example:

\`\`\`
podlink: .podlink/podlink.json: feature.fs.moed: unknown key; did you mean \`mode\`? (keys allowed in feature.fs: mode, read_only, read_write, local, not_found)
podlink: .podlink/podlink.yaml:7:5: invalid YAML: map keys must be unique (fix the file at that position)
podlink: .mirrord/mirrord.json: feature.copy_target: a mirrord key podlink does not support yet (remove it; docs/config.md lists the keys podlink supports)
\`\`\`

\`podlink verify-config\` exits 0 for a valid file and 1 otherwise.

## Where podlink differs from mirrord

- \`feature.network.outgoing.ignore_localhost\` defaults to \`true\`: connections to loopback stay on your machine
  unless you ask for the pod's loopback (mirrord: \`false\`).
- \`feature.fs\` patterns are POSIX extended regexes (glibc \`regcomp\`, case-insensitive), not Rust regexes:
  Perl-only syntax (\`\\d\`, \`(?i)\`, \`(?:…)\`, lookarounds, \`[\\.]\`) is refused with what to write instead
  (\`[0-9]\`, nothing, \`(…)\`, …).
- HTTP filters are JavaScript regexes (case-insensitive); lookaheads work, \`(?i)\` is refused (not needed).
- \`agent.log_level\` / \`internal_proxy.log_level\` take a level; a RUST_LOG filter such as \`mirrord=debug,warn\` is read
  as its most verbose level, with a notice.
- \`feature.env.exclude\` adds to the default list (\`PATH\`, \`HOME\`, …) instead of replacing it; a default-excluded
  name written in \`include\` is taken.
- Target kinds: also \`pid/PID\` (a process on this machine, for development and tests).

## mirrord keys podlink does not support yet

They are refused with "a mirrord key podlink does not support yet", never silently ignored:

${unsupportedList()}

These are accepted only at the value that matches what podlink does anyway (with a notice):

${acceptedList()}

## Keys that validate but \`podlink exec\` cannot do yet

\`podlink verify-config\` accepts them so teams can check their files in today; \`podlink exec\` refuses a config that
sets one of them away from its default, in one line naming the key:

${unavailableList()
  .map(({ key, note }) => `- \`${key}\`${note ? ` (${note})` : ''}`)
  .join('\n')}

## Reference

${sections.join('\n\n')}
`;
}

/** The files, by path from the repository root (README.md keeps everything outside its markers). */
export function configDocFiles(root: string): Record<string, string> {
  const readmePath = path.join(root, 'README.md');
  const readme = fs.existsSync(readmePath) ? fs.readFileSync(readmePath, 'utf8') : undefined;
  return {
    'podlink.schema.json': `${JSON.stringify(jsonSchema(), null, 2)}\n`,
    'README.md': withReadmeSection(readme),
    'docs/config.md': configDoc(),
  };
}
