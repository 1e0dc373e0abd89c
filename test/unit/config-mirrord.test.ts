/**
 * Real mirrord configs load unchanged: the ones in the seed documents (copied byte for byte into
 * test/fixtures/config/mirrord/seed-*), and team configs written the way mirrord users write them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { loadConfig } from '../../config/load.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/config/mirrord');

const load = (file: string, env: Record<string, string | undefined> = {}, overrides?: Record<string, unknown>) =>
  loadConfig({ file, cwd: fixtures, env, overrides });

describe('mirrord configs from the seed documents', () => {
  it('should read `"incoming": "steal"` with a comment line before the object', async () => {
    const { config, notices } = await load('seed-000-incoming-steal.json');
    assert.deepEqual(notices, []);
    assert.equal(config.feature.network.incoming.mode, 'steal');
    assert.deepEqual(config.feature.network.incoming.http_filter, {});
  });

  it('should read a steal with a header filter and an inline comment', async () => {
    const { config } = await load('seed-000-steal-header-filter.json');
    assert.equal(config.feature.network.incoming.mode, 'steal');
    assert.deepEqual(config.feature.network.incoming.http_filter, { header_filter: 'access-user-account: mishio' });
  });

  it('should read port_mapping', async () => {
    const { config } = await load('seed-000-port-mapping.json');
    assert.deepEqual(config.feature.network.incoming.port_mapping, [[3000, 3030]]);
  });

  it('should render the USER template with escaped quotes inside the JSON string', async () => {
    const { config } = await load('seed-002-mirrord.config.json', { USER: 'alice' });
    assert.equal(config.feature.network.incoming.http_filter.header_filter, '^X-Dev-User: alice$');
    assert.equal(config.feature.env.enabled, true);
    assert.equal(config.feature.network.dns.enabled, true);
    assert.deepEqual(config.feature.network.outgoing, { tcp: true, udp: true, ignore_localhost: true });
  });

  it('should fall back to the template default when USER is unset', async () => {
    const { config } = await load('seed-002-mirrord.config.json', {});
    assert.equal(config.feature.network.incoming.http_filter.header_filter, '^X-Dev-User: unknown$');
  });

  it('should take the target from the command line as in `mirrord exec -t deployment/bff -f ./mirrord.config.json`', async () => {
    const { config } = await load('seed-002-mirrord.config.json', { USER: 'bob' }, { target: 'deployment/bff' });
    assert.deepEqual(config.target, { path: 'deployment/bff' });
    assert.equal(config.feature.network.incoming.mode, 'steal');
  });

  it('should read the seed files exactly as the documents print them', () => {
    // Guard against someone "fixing" a fixture: the comments are what makes them real.
    const steal = fs.readFileSync(path.join(fixtures, 'seed-000-incoming-steal.json'), 'utf8');
    assert.ok(steal.startsWith('// VS Code'));
    const bff = fs.readFileSync(path.join(fixtures, 'seed-002-mirrord.config.json'), 'utf8');
    assert.ok(bff.includes('{{ get_env(name=\\"USER\\", default=\\"unknown\\") }}'));
  });
});

describe('team mirrord configs', () => {
  it('should read a full mirrord.json: object target, RUST_LOG level, any_of filter, outgoing names', async () => {
    const { config, notices } = await load('team-mirrord.json', { USER: 'carol' });
    assert.deepEqual(config.target, { path: 'deployment/checkout/container/app', namespace: 'shop' });
    assert.equal(config.agent.log_level, 'debug');
    assert.equal(config.agent.ttl, 30);
    assert.deepEqual(config.feature.env.include, ['DB_*', 'STRIPE_PUBLIC_KEY']);
    assert.deepEqual(config.feature.fs, {
      mode: 'read',
      read_only: [],
      read_write: ['.+\\.sqlite$'],
      local: ['.+\\.js$', '.+\\.mjs$'],
      not_found: ['\\.config/gcloud'],
    });
    assert.deepEqual(config.feature.network.incoming.http_filter, {
      any_of: [{ header: '^x-debug-user: carol$' }, { path: '^/api/v2/checkout' }],
      ports: [8080],
    });
    assert.deepEqual(config.feature.network.incoming.ignore_ports, [9090]);
    assert.deepEqual(config.feature.network.outgoing.filter, { remote: ['payments.shop.svc.cluster.local:443', '10.96.0.0/12'] });
    // DNS was unset, so a remote outgoing filter leaves it all-remote.
    assert.deepEqual(config.feature.network.dns, { enabled: true });
    assert.equal(config.internal_proxy.idle_timeout, 10);
    assert.deepEqual(notices, [
      'operator: false ignored (podlink has no operator)',
      'telemetry: false ignored (podlink sends no telemetry)',
      'agent.log_level: "mirrord=debug,warn" read as the level "debug"',
    ]);
  });

  it('should read a mirrord YAML config', async () => {
    const { config } = await load('team-mirrord.yaml');
    assert.deepEqual(config.target, { path: 'statefulset/postgres' });
    assert.equal(config.feature.fs.mode, 'localwithoverrides');
    assert.equal(config.feature.network.incoming.mode, 'mirror');
    assert.equal(config.feature.network.outgoing.ignore_localhost, false);
    assert.deepEqual(config.feature.network.dns, { enabled: false });
  });

  it('should read a mirrord TOML config', async () => {
    const { config } = await load('team-mirrord.toml');
    assert.deepEqual(config.target, { path: 'pod/api-7d9f8c6b5-x2x9q/container/api' });
    assert.deepEqual(config.feature.fs.read_only, ['^/etc/']);
    assert.equal(config.feature.fs.mode, 'write');
    assert.equal(config.feature.network.incoming.mode, 'off');
  });

  it('should name an operator-only key as not supported yet, not as unknown', async () => {
    await assert.rejects(load('unsupported-operator-features.json'), (err: Error) => {
      assert.equal(
        errorLine(err),
        'podlink: unsupported-operator-features.json: feature.split_queues: a mirrord key podlink does not support yet (remove it; docs/config.md lists the keys podlink supports)',
      );
      return true;
    });
  });

  it('should pick up .mirrord/mirrord.json with a notice when there is no podlink config', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-mirrord-'));
    try {
      fs.mkdirSync(path.join(dir, '.mirrord'));
      fs.copyFileSync(path.join(fixtures, 'seed-002-mirrord.config.json'), path.join(dir, '.mirrord/mirrord.json'));
      const { config, notices, source } = await loadConfig({ cwd: dir, env: { USER: 'dave' } });
      assert.deepEqual(notices, ['using mirrord config .mirrord/mirrord.json']);
      assert.equal(source, path.join(dir, '.mirrord/mirrord.json'));
      assert.equal(config.feature.network.incoming.http_filter.header_filter, '^X-Dev-User: dave$');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
