/**
 * `podlink verify-config` and `podlink schema` run as real processes (the built CLI, PODLINK_*
 * variables cleared), checked on exit status, stdout and stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { jsonSchema } from '../../config/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin/podlink.js');
const fixtures = path.join(root, 'test/fixtures/config');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-cli-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function podlink(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PODLINK_') && k !== 'USER')) as Record<string, string>;
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: { ...clean, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stderr as the CLI prints it: one `podlink: …` line each. */
const lines = (...l: string[]): string => l.map((x) => `podlink: ${x}\n`).join('');
const notYet = (key: string): string => `${key} is valid, but podlink exec does not support it yet`;

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

describe('podlink verify-config', () => {
  it('should print the effective config of a valid file and exit 0', async () => {
    write('team.yaml', 'target: pid/4242\nfeature:\n  fs: local\n  env: {include: "DB_*"}\n');
    const r = podlink(['verify-config', 'team.yaml']);
    assert.equal(r.stderr, 'podlink: team.yaml is valid\n');
    assert.equal(r.status, 0);
    const expected = (await loadConfig({ file: 'team.yaml', cwd: dir, env: {} })).config;
    assert.deepEqual(JSON.parse(r.stdout), expected);
    assert.equal(r.stdout, `${JSON.stringify(expected, null, 2)}\n`);
  });

  it('should print one line on stderr and exit 1 for an invalid file', () => {
    write('bad.json', '{ "feature": { "network": { "incoming": { "mode": "stael" } } } }');
    const r = podlink(['verify-config', 'bad.json']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'podlink: bad.json: feature.network.incoming.mode: expected one of "mirror", "steal", "off", got "stael"; did you mean "steal"? (see feature.network.incoming.mode in docs/config.md)\n',
    );
  });

  it('should exit 1 for a file that does not exist', () => {
    const r = podlink(['verify-config', 'missing.toml']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'podlink: config file missing.toml not found (check the file name and the working directory)\n');
  });

  it('should find the config itself when FILE is absent, and say when it reads a mirrord file', () => {
    write('.mirrord/mirrord.json', fs.readFileSync(path.join(fixtures, 'mirrord/seed-000-incoming-steal.json'), 'utf8'));
    const r = podlink(['verify-config']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, lines('using mirrord config .mirrord/mirrord.json', '.mirrord/mirrord.json is valid'));
    assert.equal(JSON.parse(r.stdout).feature.network.incoming.mode, 'steal');
  });

  it('should honour PODLINK_CONFIG_FILE and render templates from the environment', () => {
    write('conf/team.json', fs.readFileSync(path.join(fixtures, 'mirrord/seed-002-mirrord.config.json'), 'utf8'));
    const r = podlink(['verify-config'], { PODLINK_CONFIG_FILE: 'conf/team.json', USER: 'erin' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, lines('conf/team.json is valid'));
    assert.equal(JSON.parse(r.stdout).feature.network.incoming.http_filter.header_filter, '^X-Dev-User: erin$');
  });

  it('should list the keys podlink exec cannot do yet, and still exit 0', () => {
    write('.podlink/podlink.json', '{ "agent": { "json_log": true }, "feature": { "network": { "outgoing": { "filter": { "local": [":5432"] } } } } }');
    const r = podlink(['verify-config']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, lines(notYet('feature.network.outgoing.filter'), notYet('agent.json_log'), '.podlink/podlink.json is valid'));
  });

  it('should print the defaults when there is no config at all', async () => {
    const r = podlink(['verify-config']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, 'podlink: no config file found (FILE, PODLINK_CONFIG_FILE, .podlink/podlink.*, .mirrord/mirrord.json); these are the defaults\n');
    assert.deepEqual(JSON.parse(r.stdout), (await loadConfig({ cwd: dir, env: {} })).config);
  });
});

describe('podlink schema', () => {
  it('should print the JSON Schema', () => {
    const r = podlink(['schema']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout), jsonSchema());
  });

  it('should write it with --output, identical to the committed podlink.schema.json', () => {
    const r = podlink(['schema', '--output', 'podlink.schema.json']);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'podlink: wrote podlink.schema.json\n');
    assert.equal(fs.readFileSync(path.join(dir, 'podlink.schema.json'), 'utf8'), fs.readFileSync(path.join(root, 'podlink.schema.json'), 'utf8'));
  });

  it('should exit 1 with one line when it cannot write', () => {
    const r = podlink(['schema', '-o', 'no/such/dir/schema.json']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'podlink: cannot write no/such/dir/schema.json: ENOENT (choose a writable path)\n');
  });
});
