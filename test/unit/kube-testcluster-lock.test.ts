// The test cluster scripts' lock (testcluster/lib/lock.sh) on its own, with no cluster: a second
// holder waits and says for whom; a component started by start_component does not keep the lock
// once the script is gone (a running kube-apiserver must not block the next `up`). The scripts'
// own use of it (two `cluster:up` at once) is in test/cluster/up-down-lifecycle.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

const TC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../testcluster');

/** Runs a bash snippet with the lock helpers sourced; resolves with its output and exit time. */
function script(body: string, env: Record<string, string>): Promise<{ code: number | null; out: string; endedAt: number }> {
  const src = `set -Eeuo pipefail\n. "${TC}/lib/common.sh"\n. "${TC}/lib/lock.sh"\n. "${TC}/lib/run.sh"\n${body}\n`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', src], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out, endedAt: Date.now() }));
  });
}

describe('the test cluster scripts\' lock', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'podlink-lock-'));
    env = { PODLINK_CLUSTER_LOCK: path.join(dir, 'cluster.lock') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('should make a second holder wait, naming the first, and then go on', async () => {
    const first = script('kcl_lock "cluster:up"; echo first-has-it; sleep 1.5; echo first-done', env);
    await new Promise((r) => setTimeout(r, 400));
    const second = script('kcl_lock "cluster:down"; echo second-has-it', env);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    assert.match(b.out, new RegExp(`^cluster: waiting for another test-cluster script to finish \\(cluster:up \\(pid \\d+\\); lock: ${env.PODLINK_CLUSTER_LOCK}\\)\\ncluster: got the lock after waiting\\nsecond-has-it\\n$`));
    assert.ok(b.endedAt >= a.endedAt, 'the second got it only after the first exited');
    assert.equal(readFileSync(env.PODLINK_CLUSTER_LOCK!, 'utf8').replace(/\d+/, 'N'), 'cluster:down (pid N)\n');
  });

  it('should not wait, nor say anything, when nobody holds it', async () => {
    const r = await script('kcl_lock "cluster:up"; echo ok', env);
    assert.equal(r.out, 'ok\n');
  });

  it('should not be kept by a component start_component left running', async () => {
    // start_component enters the cluster netns with nsenter; a stand-in runs the command as is.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'nsenter'), '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n');
    chmodSync(path.join(bin, 'nsenter'), 0o755);
    const run = path.join(dir, 'run');
    const r = await script(`KCL_RUN=${run} KCL_LOG=${dir}/log; kcl_lock "cluster:up"; start_component fake sleep 30 >/dev/null`, { ...env, PATH: `${bin}:${process.env.PATH}` });
    assert.equal(r.code, 0, r.out);
    const pid = Number(readFileSync(path.join(run, 'pids', 'fake'), 'utf8'));
    try {
      process.kill(pid, 0); // the component is still running…
      const free = spawnSync('flock', ['-n', env.PODLINK_CLUSTER_LOCK!, 'true']);
      assert.equal(free.status, 0, '…and the lock is free');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('should be taken by up, down, build and image', () => {
    for (const s of ['up.sh', 'down.sh', 'build.sh', 'image.sh']) {
      assert.match(readFileSync(path.join(TC, s), 'utf8'), /^kcl_lock "/m, s);
    }
  });
});
