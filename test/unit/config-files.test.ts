/**
 * A table of config files in the three formats: valid ones with the effective config they give,
 * invalid ones with the exact line the user sees (`podlink: …` as errorLine prints it).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { ConfigError, defaultConfig, loadConfig, type PodlinkConfig } from '../../config/load.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/config');

/** Loads `rel` from the fixtures directory (messages then show the path relative to it). */
async function load(rel: string, env: Record<string, string | undefined> = {}) {
  return loadConfig({ file: rel, cwd: fixtures, env });
}

async function errorOf(rel: string, env: Record<string, string | undefined> = {}): Promise<ConfigError> {
  try {
    await load(rel, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${rel} loaded without error`);
}

/** The defaults with `patch` applied key by key (objects merged, everything else replaced). */
function withDefaults(patch: Record<string, unknown>): PodlinkConfig {
  const merge = (base: unknown, over: unknown): unknown => {
    if (over && typeof over === 'object' && !Array.isArray(over) && base && typeof base === 'object' && !Array.isArray(base)) {
      const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
      for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
      return out;
    }
    return over;
  };
  return merge(defaultConfig(), patch) as PodlinkConfig;
}

describe('valid config files', () => {
  it('should read a JSON file with comments, trailing commas, shorthands and a template', async () => {
    const { config, notices } = await load('valid/team.json', { USER: 'alice' });
    assert.deepEqual(notices, []);
    assert.deepEqual(
      config,
      withDefaults({
        target: { path: 'deployment/bff/container/app', namespace: 'staging' },
        agent: { ttl: 5, startup_timeout: 120, log_level: 'debug' },
        feature: {
          env: { include: ['DATABASE_*', 'REDIS_URL'], override: { LOG_LEVEL: 'debug', PORT: '3000' } },
          fs: { mode: 'read', local: ['^/tmp/', 'node_modules'], not_found: ['\\.aws/'] },
          network: {
            incoming: { mode: 'steal', http_filter: { header_filter: '^X-Dev-User: alice$' }, port_mapping: [[3000, 3030]] },
            outgoing: { filter: { local: ['tcp://localhost:5432', 'metrics.internal'] } },
            // Host names of the local outgoing filter are resolved locally too (with their port, as mirrord does).
            dns: { filter: { local: ['localhost:5432', 'metrics.internal'] } },
          },
        },
      }),
    );
  });

  it('should read a YAML file', async () => {
    const { config } = await load('valid/team.yaml');
    assert.deepEqual(
      config,
      withDefaults({
        target: { path: 'deployment/bff/container/app' },
        kube_context: 'staging-admin',
        feature: {
          env: { exclude: ['PATH', 'HOME', 'HOMEPATH', 'CLASSPATH', 'JAVA_EXE', 'JAVA_HOME', 'PYTHONPATH', 'SECRET_*', 'AWS_*'] },
          fs: { mode: 'localwithoverrides', read_only: ['^/etc/app/', '\\.ya?ml$'] },
          network: {
            incoming: { mode: 'off' },
            outgoing: { udp: false, filter: { remote: ['10.0.0.0/8', ':53', '[fd00::1]:8080'] } },
            dns: { filter: { local: ['localhost'] } },
          },
        },
        internal_proxy: { start_idle_timeout: 300, log_destination: '/tmp/podlink-intproxy.log' },
      }),
    );
  });

  it('should read a TOML file', async () => {
    const { config } = await load('valid/team.toml');
    assert.deepEqual(
      config,
      withDefaults({
        target: { path: 'pid/4242' },
        agent: { namespace: 'podlink', image: 'registry.example.com/podlink-agent:0.1.0' },
        feature: {
          env: { enabled: false },
          fs: { mode: 'write' },
          network: {
            incoming: { ports: [8080], ignore_localhost: true },
            outgoing: { tcp: false, udp: false },
          },
        },
      }),
    );
  });

  for (const empty of ['valid/empty.json', 'valid/empty.yaml', 'valid/comment-only.toml']) {
    it(`should give every default for ${empty}`, async () => {
      const { config } = await load(empty);
      assert.deepEqual(config, defaultConfig());
    });
  }

  it('should give the documented defaults', () => {
    const c = defaultConfig();
    assert.deepEqual(c.target, {});
    assert.equal(c.feature.fs.mode, 'read');
    assert.deepEqual(c.feature.env, {
      enabled: true,
      exclude: ['PATH', 'HOME', 'HOMEPATH', 'CLASSPATH', 'JAVA_EXE', 'JAVA_HOME', 'PYTHONPATH'],
      override: {},
    });
    assert.deepEqual(c.feature.network.outgoing, { tcp: true, udp: true, ignore_localhost: true });
    assert.deepEqual(c.feature.network.dns, { enabled: true });
    assert.equal(c.feature.network.incoming.mode, 'mirror');
    assert.deepEqual(c.internal_proxy, { start_idle_timeout: 60, idle_timeout: 5, log_level: 'info' });
    assert.equal(c.agent.ttl, 1);
    assert.equal(c.agent.startup_timeout, 60);
  });

  it('should render templates in YAML single- and double-quoted strings', async () => {
    const { config } = await load('valid/user-template.yaml', { USER: 'bob' });
    assert.equal(config.target.path, 'pod/api-0');
    assert.equal(config.feature.network.incoming.http_filter.header_filter, '^X-Dev-User: bob$');
  });
});

describe('invalid config files', () => {
  const table: [file: string, line: string, code: string][] = [
    [
      'invalid/fs-mode-typo.yaml',
      'podlink: invalid/fs-mode-typo.yaml: feature.fs.mode: expected one of "read", "write", "local", "localwithoverrides", got "raed"; did you mean "read"? (see feature.fs.mode in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
    [
      'invalid/unknown-key.toml',
      'podlink: invalid/unknown-key.toml: feature.fs.read_onyl: unknown key; did you mean `read_only`? (keys allowed in feature.fs: mode, read_only, read_write, local, not_found)',
      'CONFIG_UNKNOWN_KEY',
    ],
    [
      'invalid/perl-regex.json',
      'podlink: invalid/perl-regex.json: feature.fs.read_only[1]: `\\d+\\.log$` is not usable as a POSIX extended regex: `\\d` is Perl syntax (glibc reads it as a literal `d`); write `[0-9]` (see feature.fs.read_only in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
    [
      'invalid/syntax.json',
      'podlink: invalid/syntax.json:3:3: invalid JSON: expected `,` or `}` after the value of "target", found `"` (fix the file at that position)',
      'CONFIG_SYNTAX',
    ],
    ['invalid/syntax.yaml', 'podlink: invalid/syntax.yaml:3:1: invalid YAML: missing closing "quote (fix the file at that position)', 'CONFIG_SYNTAX'],
    [
      'invalid/syntax.toml',
      'podlink: invalid/syntax.toml:3:1: invalid TOML: trying to redefine an already defined table or value (fix the file at that position)',
      'CONFIG_SYNTAX',
    ],
    [
      'invalid/duplicate-key.json',
      'podlink: invalid/duplicate-key.json:4:5: invalid JSON: `feature.fs` is given twice (fix the file at that position)',
      'CONFIG_SYNTAX',
    ],
    [
      'invalid/unsupported-key.json',
      'podlink: invalid/unsupported-key.json: feature.copy_target: a mirrord key podlink does not support yet (remove it; docs/config.md lists the keys podlink supports)',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'invalid/operator-true.yaml',
      'podlink: invalid/operator-true.yaml: operator: a mirrord key podlink does not support yet (podlink has no operator); only false is accepted (remove it, or set it to false)',
      'CONFIG_UNSUPPORTED',
    ],
    [
      'invalid/template-unset.yaml',
      'podlink: invalid/template-unset.yaml:7:34: template get_env(name="PODLINK_TEST_TEAM"): environment variable PODLINK_TEST_TEAM is not set and no default is given (set PODLINK_TEST_TEAM, or add default="…")',
      'CONFIG_TEMPLATE',
    ],
    [
      'invalid/header-filter.toml',
      'podlink: invalid/header-filter.toml: feature.network.incoming.http_filter.header_filter: `(?i)x-dev-user: alice` is not a usable regex: `(?i)`-style flags are not supported; drop them (filters already match case-insensitively) (see feature.network.incoming.http_filter.header_filter in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
    [
      'invalid/target-kind.json',
      'podlink: invalid/target-kind.json: target: unknown target kind `deploymnet`; did you mean `deployment`? (see target in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
    [
      'invalid/port-mapping.yaml',
      'podlink: invalid/port-mapping.yaml: feature.network.incoming.port_mapping[1][1]: port 3030 appears twice on the right (items 0 and 1) (see feature.network.incoming.port_mapping in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
    [
      'invalid/top-level-list.json',
      'podlink: invalid/top-level-list.json: expected an object of keys at the top level, got a list (a config file is an object such as { "target": "deployment/api" })',
      'CONFIG_INVALID_VALUE',
    ],
    [
      'invalid/both-filters.toml',
      'podlink: invalid/both-filters.toml: feature.network.outgoing.filter.local: set either remote or local, not both (see feature.network.outgoing.filter.local in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
    ['invalid/wrong-type.toml', 'podlink: invalid/wrong-type.toml: agent.ttl: expected a number, got "ten" (see agent.ttl in docs/config.md)', 'CONFIG_INVALID_VALUE'],
    [
      'invalid/outgoing-filter.json',
      'podlink: invalid/outgoing-filter.json: feature.network.outgoing.filter.local[1]: `ftp://files:21`: unknown protocol `ftp`; write `tcp://`, `udp://` or nothing (see feature.network.outgoing.filter.local in docs/config.md)',
      'CONFIG_INVALID_VALUE',
    ],
  ];

  for (const [file, line, code] of table) {
    it(`should reject ${file} in one line`, async () => {
      const err = await errorOf(file);
      assert.equal(errorLine(err), line);
      assert.equal(err.code, code);
      assert.ok(!errorLine(err).includes('\n'));
    });
  }

  it('should name the key path on the error object', async () => {
    const err = await errorOf('invalid/header-filter.toml');
    assert.equal(err.keyPath, 'feature.network.incoming.http_filter.header_filter');
    assert.equal(err.name, 'ConfigError');
  });
});
