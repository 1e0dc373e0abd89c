/**
 * The rules of the schema, key by key: shorthands, target forms, agent fields, mirrord keys podlink
 * does not support, "did you mean", notices, and the keys `podlink exec` refuses for now.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { ConfigError } from '../../config/errors.js';
import { validateRawConfig, defaultConfig, unavailableFeatures } from '../../config/load.js';
import { ACCEPTED_AT_DEFAULT, UNSUPPORTED_MIRRORD_KEYS } from '../../config/mirrord.js';
import { configNotices } from '../../config/notices.js';
import { closest } from '../../config/suggest.js';
import { unavailableList } from '../../config/unavailable.js';

const ok = (raw: unknown) => validateRawConfig(raw, 'podlink.json');

function fail(raw: unknown): ConfigError {
  try {
    ok(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

/** Builds `{ a: { b: value } }` from `a.b` (a `[]` segment makes a one-item list). */
function at(key: string, value: unknown): Record<string, unknown> {
  const segs = key.split('.').filter(Boolean);
  let v = value;
  for (const seg of segs.reverse()) v = seg.endsWith('[]') ? { [seg.slice(0, -2)]: [v] } : { [seg]: v };
  return v as Record<string, unknown>;
}

describe('shorthands', () => {
  const d = defaultConfig();
  it('should expand fs, env, network, incoming, outgoing, dns and http_filter shorthands', () => {
    assert.equal(ok({ feature: { fs: true } }).feature.fs.mode, 'read');
    assert.equal(ok({ feature: { fs: false } }).feature.fs.mode, 'local');
    assert.equal(ok({ feature: { fs: 'localwithoverrides' } }).feature.fs.mode, 'localwithoverrides');
    assert.deepEqual(ok({ feature: { fs: { read_only: '^/etc/' } } }).feature.fs.read_only, ['^/etc/']);
    assert.deepEqual(ok({ feature: { env: false } }).feature.env, { ...d.feature.env, enabled: false });
    assert.deepEqual(ok({ feature: { env: true } }).feature.env, d.feature.env);
    assert.equal(ok({ feature: { network: { incoming: true } } }).feature.network.incoming.mode, 'mirror');
    assert.equal(ok({ feature: { network: { incoming: false } } }).feature.network.incoming.mode, 'off');
    assert.deepEqual(ok({ feature: { network: { incoming: { http_filter: true } } } }).feature.network.incoming.http_filter, {});
    assert.deepEqual(ok({ feature: { network: { outgoing: false } } }).feature.network.outgoing, { tcp: false, udp: false, ignore_localhost: true });
    assert.deepEqual(ok({ feature: { network: { dns: false } } }).feature.network.dns, { enabled: false });
    assert.deepEqual(ok({ feature: { network: false } }).feature.network, {
      incoming: { ...d.feature.network.incoming, mode: 'off' },
      outgoing: { tcp: false, udp: false, ignore_localhost: true },
      dns: { enabled: false },
    });
    assert.deepEqual(ok({ feature: { network: true } }).feature.network, d.feature.network);
  });

  it('should split env globs given as one ;-separated string and keep defaults named in include', () => {
    const env = ok({ feature: { env: { include: 'PATH;DB_*', exclude: 'SECRET;' } } }).feature.env;
    assert.deepEqual(env.include, ['PATH', 'DB_*']);
    assert.deepEqual(env.exclude, ['HOME', 'HOMEPATH', 'CLASSPATH', 'JAVA_EXE', 'JAVA_HOME', 'PYTHONPATH', 'SECRET']);
  });

  it('should write numbers and booleans of env.override as text', () => {
    assert.deepEqual(ok({ feature: { env: { override: { PORT: 8080, DEBUG: true } } } }).feature.env.override, { PORT: '8080', DEBUG: 'true' });
  });

  it('should copy outgoing host names into the DNS filter on the same side, as mirrord does', () => {
    const net = (n: unknown) => ok({ feature: { network: n } }).feature.network.dns;
    assert.deepEqual(net({ outgoing: { filter: { local: ['db.local:5432', '10.0.0.0/8'] } } }), { enabled: true, filter: { local: ['db.local:5432'] } });
    assert.deepEqual(net({ outgoing: { filter: { local: 'a.b' } }, dns: { filter: { local: ['c.d', 'a.b'] } } }), { enabled: true, filter: { local: ['c.d', 'a.b'] } });
    assert.deepEqual(net({ outgoing: { filter: { remote: ['svc'] } } }), { enabled: true });
    assert.deepEqual(net({ outgoing: { filter: { remote: ['svc'] } }, dns: { filter: { remote: ['x'] } } }), { enabled: true, filter: { remote: ['x', 'svc'] } });
    assert.deepEqual(net({ outgoing: { filter: { local: ['svc'] } }, dns: false }), { enabled: false });
  });
});

describe('target', () => {
  const table: [unknown, { path?: string; namespace?: string }][] = [
    [undefined, {}],
    ['targetless', {}],
    ['pod/web-0', { path: 'pod/web-0' }],
    ['deploy/api', { path: 'deployment/api' }],
    ['deployment/api/container/app', { path: 'deployment/api/container/app' }],
    ['statefulset/db', { path: 'statefulset/db' }],
    ['cronjob/nightly', { path: 'cronjob/nightly' }],
    ['rollout/shop', { path: 'rollout/shop' }],
    ['pid/1234', { path: 'pid/1234' }],
    [{ path: 'service/api', namespace: 'prod' }, { path: 'service/api', namespace: 'prod' }],
    [{ path: { cron_job: 'nightly', container: 'job' } }, { path: 'cronjob/nightly/container/job' }],
    [{ path: 'targetless', namespace: 'sandbox' }, { namespace: 'sandbox' }],
    [{ namespace: 'sandbox' }, { namespace: 'sandbox' }],
  ];
  for (const [input, expected] of table) {
    it(`should read ${JSON.stringify(input)}`, () => {
      assert.deepEqual(ok(input === undefined ? {} : { target: input }).target, expected);
    });
  }

  const bad: [unknown, string][] = [
    ['Api_1', 'podlink: podlink.json: target: `Api_1` is no target: the pod name must be lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit; write `pod/NAME[/container/C]`, `deployment/NAME`, `statefulset/NAME`, `replicaset/NAME`, `job/NAME`, `cronjob/NAME`, `service/NAME`, `rollout/NAME`, `pid/PID` or `targetless` (see target in docs/config.md)'],
    ['pod/Web', 'podlink: podlink.json: target: `pod/Web`: the pod name must be lowercase (see target in docs/config.md)'],
    ['pod/web/sidecar', 'podlink: podlink.json: target: `pod/web/sidecar`: after the name only `/container/NAME` may follow (see target in docs/config.md)'],
    ['pid/abc', 'podlink: podlink.json: target: `pid/abc`: write `pid/PID` with the number of a running local process (see target in docs/config.md)'],
    ['label/app', 'podlink: podlink.json: target: label targets are a mirrord feature podlink does not support yet (see target in docs/config.md)'],
    [{ path: { pod: 'a', deployment: 'b' } }, 'podlink: podlink.json: target.path: name exactly one kind, not pod and deployment (see target.path in docs/config.md)'],
    [{ path: { labels: { app: 'x' } } }, 'podlink: podlink.json: target.path.labels: a mirrord key podlink does not support yet (remove it; docs/config.md lists the keys podlink supports)'],
    [42, 'podlink: podlink.json: target: expected a string or an object, got 42 (see target in docs/config.md)'],
  ];
  for (const [input, line] of bad) {
    it(`should refuse ${JSON.stringify(input)}`, () => {
      assert.equal(errorLine(fail({ target: input })), line);
    });
  }

  it('should mark unsupported target kinds with their own code', () => {
    assert.equal(fail({ target: 'label/app' }).code, 'CONFIG_UNSUPPORTED');
  });
});

describe('agent', () => {
  it('should read mirrord agent settings', () => {
    const a = ok({
      agent: {
        image: { registry: 'reg.example.com/agent', tag: '1.2' },
        image_pull_secrets: [{ name: 'regcred' }],
        labels: { 'app.kubernetes.io/part-of': 'podlink' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'dev', effect: 'NoSchedule' }],
        resources: { limits: { memory: '256Mi' }, requests: { cpu: 0.5 } },
        disabled_capabilities: ['CAP_NET_RAW', 'SYS_PTRACE'],
        log_level: 'WARN',
      },
    }).agent;
    assert.equal(a.image, 'reg.example.com/agent:1.2');
    assert.deepEqual(a.image_pull_secrets, ['regcred']);
    assert.deepEqual(a.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'dev', effect: 'NoSchedule' }]);
    assert.deepEqual(a.resources, { requests: { cpu: '0.5', memory: '1Mi' }, limits: { cpu: '1', memory: '256Mi' } });
    assert.deepEqual(a.disabled_capabilities, ['NET_RAW', 'SYS_PTRACE']);
    assert.equal(a.log_level, 'warn');
  });

  const bad: [Record<string, unknown>, string][] = [
    [{ tolerations: [{ operator: 'Exists', value: 'x' }] }, 'agent.tolerations[0].value: a toleration with operator Exists takes no value'],
    [{ tolerations: [{ key: 'k', tolerationSeconds: 5 }] }, 'agent.tolerations[0].tolerationSeconds: tolerationSeconds only applies with effect NoExecute'],
    [{ resources: { limits: { memory: '1 GB' } } }, 'agent.resources.limits.memory: `1 GB` is not a Kubernetes quantity (e.g. `100m`, `1`, `128Mi`)'],
    [{ disabled_capabilities: ['CAP_CHOWN'] }, 'agent.disabled_capabilities[0]: expected one of CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, CAP_SYS_ADMIN, got "CAP_CHOWN"'],
    [{ log_level: 'verbose' }, 'agent.log_level: expected one of "trace", "debug", "info", "warn", "error" (or a RUST_LOG filter like "mirrord=debug,warn"), got "verbose"'],
    [{ log_level: 'dbug' }, 'agent.log_level: expected one of "trace", "debug", "info", "warn", "error" (or a RUST_LOG filter like "mirrord=debug,warn"), got "dbug"; did you mean "debug"?'],
    [{ namespace: 'my_ns' }, 'agent.namespace: namespace `my_ns` must be lowercase letters, digits and `-`, starting and ending with a letter or digit'],
    [{ startup_timeout: 0 }, 'agent.startup_timeout: expected at least 1, got 0'],
    [{ ttl: 1.5 }, 'agent.ttl: expected an integer, got 1.5'],
    [{ image: { tag: 'x' } }, 'agent.image.registry: is required'],
    [{ labels: { 'bad key!': 'x' } }, 'agent.labels["bad key!"]: key `bad key!` must be at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit (optionally after a `prefix/`)'],
  ];
  for (const [agent, message] of bad) {
    it(`should refuse ${JSON.stringify(agent)}`, () => {
      assert.equal(fail({ agent }).message, `podlink.json: ${message}`);
    });
  }
});

describe('incoming', () => {
  it('should read http filters and port lists', () => {
    const i = ok({
      feature: { network: { incoming: { mode: 'steal', http_filter: { all_of: [{ header: '^x-a: 1$' }, { method: 'POST' }], ports: 8080 }, listen_ports: [[80, 8080]] } } },
    }).feature.network.incoming;
    assert.deepEqual(i.http_filter, { all_of: [{ header: '^x-a: 1$' }, { method: 'POST' }], ports: [8080] });
    assert.deepEqual(i.listen_ports, [[80, 8080]]);
  });

  const bad: [Record<string, unknown>, string][] = [
    [{ http_filter: { header_filter: 'a', path_filter: 'b' } }, 'feature.network.incoming.http_filter.path_filter: set only one of header_filter, path_filter; combine several with all_of or any_of'],
    [{ http_filter: { any_of: [] } }, 'feature.network.incoming.http_filter.any_of: must not be an empty list'],
    [{ http_filter: { all_of: [{ header: 'a', path: 'b' }] } }, 'feature.network.incoming.http_filter.all_of[0]: one filter per item; split header and path into separate items'],
    [{ http_filter: { any_of: [{ body: 'json', query: '$.a' }] } }, 'feature.network.incoming.http_filter.any_of[0].body: a mirrord key podlink does not support yet'],
    [{ http_filter: { method_filter: 'GET /' } }, 'feature.network.incoming.http_filter.method_filter: `GET /` is not an HTTP method (e.g. GET, POST)'],
    [{ ports: [80], ignore_ports: [81] }, 'feature.network.incoming.ignore_ports: set either ports or ignore_ports, not both'],
    [{ ports: [0] }, 'feature.network.incoming.ports[0]: expected at least 1, got 0'],
    [{ port_mapping: [[3000, 70000]] }, 'feature.network.incoming.port_mapping[0][1]: expected at most 65535, got 70000'],
    [{ port_mapping: [3000, 3030] }, 'feature.network.incoming.port_mapping[0]: expected a pair of ports like [3000, 3030]'],
    [{ on_concurrent_steal: 'overide' }, 'feature.network.incoming.on_concurrent_steal: expected one of "abort", "continue", "override", got "overide"; did you mean "override"?'],
    [{ tls_delivery: { protocol: 'tls' } }, 'feature.network.incoming.tls_delivery: a mirrord key podlink does not support yet'],
  ];
  for (const [incoming, message] of bad) {
    it(`should refuse ${JSON.stringify(incoming)}`, () => {
      assert.equal(fail({ feature: { network: { incoming } } }).message, `podlink.json: ${message}`);
    });
  }
});

describe('mirrord keys podlink does not support yet', () => {
  for (const [where, keys] of Object.entries(UNSUPPORTED_MIRRORD_KEYS)) {
    for (const key of keys) {
      const keyPath = `${where ? `${where}.` : ''}${key}`;
      it(`should name ${keyPath} as such`, () => {
        // Objects that only exist as list items or inside a target path need their container.
        const raw = where.startsWith('target.path')
          ? { target: { path: { [key]: 'x' } } }
          : at(`${where.replace(/\[\]$/, '')}${where.endsWith('[]') ? '[]' : ''}${where ? '.' : ''}${key}`, 'x');
        const err = fail(raw);
        assert.equal(err.code, 'CONFIG_UNSUPPORTED', err.message);
        assert.match(err.message, /: a mirrord key podlink does not support yet$/);
      });
    }
  }

  for (const [key, { value, why }] of Object.entries(ACCEPTED_AT_DEFAULT)) {
    it(`should accept ${key}: ${JSON.stringify(value)} with a notice, and refuse other values`, () => {
      const raw = at(key, value);
      const config = ok(raw);
      assert.deepEqual(configNotices(raw, config), [`${key}: ${JSON.stringify(value)} ignored (${why})`]);
      const err = fail(at(key, !value));
      assert.equal(err.code, 'CONFIG_UNSUPPORTED');
      assert.equal(err.message, `podlink.json: ${key}: a mirrord key podlink does not support yet (${why}); only ${JSON.stringify(value)} is accepted`);
    });
  }
});

describe('did you mean', () => {
  it('should suggest close keys and values, and nothing for far ones', () => {
    assert.equal(closest('moed', ['mode', 'local']), 'mode');
    assert.equal(closest('read-only', ['read_only', 'read_write']), 'read_only');
    assert.equal(closest('Feature', ['feature']), 'feature');
    assert.equal(closest('banana', ['mode', 'local']), undefined);
  });

  it('should suggest on unknown keys at every level', () => {
    assert.equal(fail({ feature: { netwrok: {} } }).message, 'podlink.json: feature.netwrok: unknown key; did you mean `network`?');
    assert.equal(fail({ feature: { network: { outgoing: { ignore_locahost: true } } } }).message, 'podlink.json: feature.network.outgoing.ignore_locahost: unknown key; did you mean `ignore_localhost`?');
    assert.equal(fail({ agent: { startup_timout: 5 } }).message, 'podlink.json: agent.startup_timout: unknown key; did you mean `startup_timeout`?');
    const far = fail({ feature: { fs: { whatever: 1 } } });
    assert.equal(far.message, 'podlink.json: feature.fs.whatever: unknown key');
    assert.equal(far.hint, 'keys allowed in feature.fs: mode, read_only, read_write, local, not_found');
  });
});

describe('notices', () => {
  const notices = (raw: Record<string, unknown>) => configNotices(raw, ok(raw));
  it('should say when a setting has no effect or is read differently', () => {
    assert.deepEqual(notices({ feature: { network: { dns: { enabled: false, filter: { local: ['x'] } } } } }), ['feature.network.dns.filter has no effect: remote DNS is off']);
    assert.deepEqual(notices({ feature: { network: { incoming: { mode: 'off', http_filter: { path_filter: '^/' } } } } }), ['feature.network.incoming.http_filter has no effect: incoming is off']);
    assert.deepEqual(notices({ internal_proxy: { log_level: 'mirrord=trace,warn' } }), ['internal_proxy.log_level: "mirrord=trace,warn" read as the level "trace"']);
    assert.deepEqual(notices({ feature: { network: { outgoing: { filter: { local: ['db.svc'] } }, dns: { filter: { remote: ['db.svc'] } } } } }), [
      'db.svc: outgoing.filter sends it local but dns.filter resolves it remotely',
    ]);
    assert.deepEqual(notices({}), []);
  });
});

describe('unavailableFeatures', () => {
  it('should be empty for the defaults and for settings that match what exec does', () => {
    assert.deepEqual(unavailableFeatures(defaultConfig()), []);
    assert.deepEqual(unavailableFeatures(ok({ target: 'pid/1', feature: { fs: 'local', env: { include: 'A' }, network: { incoming: 'off', outgoing: false, dns: false } } })), []);
  });

  it('should name each key set away from its default', () => {
    assert.deepEqual(unavailableFeatures(ok({ feature: { network: { incoming: 'steal' } } })), []);
    assert.deepEqual(unavailableFeatures(ok({ feature: { network: { incoming: { mode: 'steal', on_concurrent_steal: 'continue' } } } })), []);
    assert.deepEqual(
      unavailableFeatures(ok({ agent: { ephemeral: true, tolerations: [], json_log: true }, internal_proxy: { idle_timeout: 30 }, feature: { env: { env_file: '.env' }, network: { dns: { filter: { local: ['x'] } } } } })),
      ['feature.network.dns.filter', 'agent.json_log', 'internal_proxy.idle_timeout'],
    );
  });

  it('should only list keys that exist in the effective config', () => {
    const d = defaultConfig() as unknown as Record<string, unknown>;
    for (const { key } of unavailableList()) {
      const parent = key.split('.').slice(0, -1).reduce<unknown>((v, s) => (v as Record<string, unknown>)[s], d);
      assert.equal(typeof parent, 'object', key);
    }
  });
});
