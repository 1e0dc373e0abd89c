/**
 * Which file is read (-f, PODLINK_CONFIG_FILE, .podlink/podlink.*, .mirrord/mirrord.json) and how
 * command-line overrides merge over it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { loadConfig } from '../../config/load.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-config-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

async function failure(opts: Parameters<typeof loadConfig>[0]): Promise<string> {
  try {
    await loadConfig(opts);
  } catch (err) {
    return errorLine(err);
  }
  assert.fail('loaded without error');
}

describe('config discovery', () => {
  it('should use the defaults when there is no file', async () => {
    const r = await loadConfig({ cwd: dir, env: {} });
    assert.equal(r.source, undefined);
    assert.deepEqual(r.notices, []);
    assert.equal(r.config.feature.fs.mode, 'read');
  });

  it('should find .podlink/podlink.json, .yaml, .yml and .toml', async () => {
    for (const [rel, text] of [
      ['.podlink/podlink.json', '{"feature": {"fs": "write"}}'],
      ['.podlink/podlink.yaml', 'feature: {fs: write}'],
      ['.podlink/podlink.yml', 'feature: {fs: write}'],
      ['.podlink/podlink.toml', '[feature]\nfs = "write"'],
    ] as const) {
      fs.rmSync(path.join(dir, '.podlink'), { recursive: true, force: true });
      write(rel, text);
      const r = await loadConfig({ cwd: dir, env: {} });
      assert.equal(r.source, path.join(dir, rel));
      assert.equal(r.config.feature.fs.mode, 'write', rel);
      assert.deepEqual(r.notices, []);
    }
  });

  it('should refuse to guess between two .podlink files', async () => {
    write('.podlink/podlink.json', '{}');
    write('.podlink/podlink.toml', '');
    assert.equal(
      await failure({ cwd: dir, env: {} }),
      'podlink: found .podlink/podlink.json and .podlink/podlink.toml; podlink reads only one (keep one of them, or choose with -f)',
    );
  });

  it('should read .mirrord/mirrord.json with a notice when there is no .podlink file', async () => {
    write('.mirrord/mirrord.json', '{"feature": {"network": {"incoming": "steal"}}}');
    const r = await loadConfig({ cwd: dir, env: {} });
    assert.deepEqual(r.notices, ['using mirrord config .mirrord/mirrord.json']);
    assert.equal(r.config.feature.network.incoming.mode, 'steal');
  });

  it('should prefer .podlink over .mirrord', async () => {
    write('.mirrord/mirrord.json', '{"feature": {"fs": "local"}}');
    write('.podlink/podlink.yaml', 'feature: {fs: write}');
    const r = await loadConfig({ cwd: dir, env: {} });
    assert.equal(r.config.feature.fs.mode, 'write');
    assert.deepEqual(r.notices, []);
  });

  it('should prefer PODLINK_CONFIG_FILE over discovery, and -f over PODLINK_CONFIG_FILE', async () => {
    write('.podlink/podlink.json', '{"feature": {"fs": "write"}}');
    write('env.yaml', 'feature: {fs: local}');
    write('flag.toml', '[feature]\nfs = "localwithoverrides"');
    const fromEnv = await loadConfig({ cwd: dir, env: { PODLINK_CONFIG_FILE: 'env.yaml' } });
    assert.equal(fromEnv.config.feature.fs.mode, 'local');
    assert.equal(fromEnv.source, path.join(dir, 'env.yaml'));
    const fromFlag = await loadConfig({ cwd: dir, file: 'flag.toml', env: { PODLINK_CONFIG_FILE: 'env.yaml' } });
    assert.equal(fromFlag.config.feature.fs.mode, 'localwithoverrides');
  });

  it('should ignore an empty PODLINK_CONFIG_FILE', async () => {
    write('.podlink/podlink.json', '{"feature": {"fs": "write"}}');
    const r = await loadConfig({ cwd: dir, env: { PODLINK_CONFIG_FILE: '' } });
    assert.equal(r.config.feature.fs.mode, 'write');
  });

  it('should say which file is missing and where it was named', async () => {
    assert.equal(await failure({ cwd: dir, file: 'nope.json', env: {} }), 'podlink: config file nope.json not found (check the file name and the working directory)');
    assert.equal(
      await failure({ cwd: dir, env: { PODLINK_CONFIG_FILE: '/nonexistent/podlink.yaml' } }),
      'podlink: config file /nonexistent/podlink.yaml not found (PODLINK_CONFIG_FILE names it; fix or unset the variable)',
    );
  });

  it('should refuse a directory and an unknown extension', async () => {
    fs.mkdirSync(path.join(dir, 'conf.json'));
    assert.equal(await failure({ cwd: dir, file: 'conf.json', env: {} }), 'podlink: config file conf.json is a directory (point -f at a readable config file)');
    write('podlink.conf', '{}');
    assert.equal(
      await failure({ cwd: dir, file: 'podlink.conf', env: {} }),
      'podlink: podlink.conf: podlink reads .json, .yaml, .yml and .toml config files (rename the file to the extension of its format)',
    );
  });

  it('should render templates with the environment it is given, not the process environment', async () => {
    write('.podlink/podlink.yaml', 'target: "pod/{{ get_env(name=\'PODLINK_TEST_POD\') }}"');
    const r = await loadConfig({ cwd: dir, env: { PODLINK_TEST_POD: 'web-0' } });
    assert.equal(r.config.target.path, 'pod/web-0');
  });
});

describe('command-line overrides', () => {
  it('should win over the file', async () => {
    write('.podlink/podlink.json', '{"target": "deployment/api", "feature": {"fs": "write"}}');
    const r = await loadConfig({ cwd: dir, env: {}, overrides: { target: 'pid/12', feature: { fs: { mode: 'local' } } } });
    assert.equal(r.config.target.path, 'pid/12');
    assert.equal(r.config.feature.fs.mode, 'local');
  });

  it('should merge key by key through shorthands: the file keeps what the flags do not set', async () => {
    write(
      '.podlink/podlink.json',
      JSON.stringify({
        target: { path: 'deployment/api', namespace: 'staging' },
        feature: { fs: { mode: 'write', read_only: ['^/etc/app/'] }, network: { incoming: { mode: 'mirror', port_mapping: [[3000, 80]] }, dns: false } },
      }),
    );
    const r = await loadConfig({
      cwd: dir,
      env: {},
      overrides: { target: 'pid/7', feature: { fs: { mode: 'local' }, network: { incoming: { mode: 'steal' }, outgoing: { udp: false } } } },
    });
    assert.deepEqual(r.config.target, { path: 'pid/7', namespace: 'staging' });
    assert.equal(r.config.feature.fs.mode, 'local');
    assert.deepEqual(r.config.feature.fs.read_only, ['^/etc/app/']);
    assert.equal(r.config.feature.network.incoming.mode, 'steal');
    assert.deepEqual(r.config.feature.network.incoming.port_mapping, [[3000, 80]]);
    assert.deepEqual(r.config.feature.network.outgoing, { tcp: true, udp: false, ignore_localhost: true });
    assert.deepEqual(r.config.feature.network.dns, { enabled: false });
  });

  it('should expand a string shorthand in the file before merging an object from the flags', async () => {
    write('.podlink/podlink.yaml', 'feature:\n  network:\n    incoming: steal\n');
    const r = await loadConfig({ cwd: dir, env: {}, overrides: { feature: { network: { incoming: { ports: [8080] } } } } });
    assert.equal(r.config.feature.network.incoming.mode, 'steal');
    assert.deepEqual(r.config.feature.network.incoming.ports, [8080]);
  });

  it('should turn env back on when the flags set env keys over "env": false', async () => {
    write('.podlink/podlink.json', '{"feature": {"env": false}}');
    const r = await loadConfig({ cwd: dir, env: {}, overrides: { feature: { env: { include: ['DB_*'] } } } });
    assert.equal(r.config.feature.env.enabled, true);
    assert.deepEqual(r.config.feature.env.include, ['DB_*']);
  });

  it('should report a bad flag as coming from the command line', async () => {
    write('.podlink/podlink.json', '{}');
    assert.equal(
      await failure({ cwd: dir, env: {}, overrides: { feature: { fs: { mode: 'remote' } } } }),
      'podlink: command line: feature.fs.mode: expected one of "read", "write", "local", "localwithoverrides", got "remote" (see feature.fs.mode in docs/config.md)',
    );
  });

  it('should leave the defaults as they were after flags set a key inside one', async () => {
    await loadConfig({ cwd: dir, env: {}, overrides: { agent: { resources: { requests: { cpu: '5' } } } } });
    const r = await loadConfig({ cwd: dir, env: {} });
    assert.deepEqual(r.config.agent.resources.requests, { cpu: '1m', memory: '1Mi' });
  });

  it('should apply the flags when there is no file', async () => {
    const r = await loadConfig({ cwd: dir, env: {}, overrides: { target: 'pid/99' } });
    assert.equal(r.config.target.path, 'pid/99');
    assert.equal(r.source, undefined);
  });
});
