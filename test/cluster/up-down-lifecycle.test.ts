// cluster:up and cluster:down as a user meets them: "already up", a teardown that leaves the
// machine as it was before the cluster booted, and bad input — a missing prerequisite, a busy
// port, a component that fails — answered by one line naming the component and its log, a
// non-zero exit and nothing left running. Runs after the other cluster tests (file order) and
// boots the cluster again at the end, so suites after it still find it up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clusterEnv, clusterScript, kubectlJson } from './cluster.js';
import { type MachineState, machineState } from './machine-state.js';

const LOGS = '/var/log/podlink-cluster';
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => / failed to start|missing prerequisite/.test(l));

describe('cluster:up and cluster:down', () => {
  let down: MachineState; // the machine with the cluster stopped, to compare every failed boot with
  let scratch: string;
  before(() => {
    clusterEnv(); // fails, not skips, when the cluster never booted
    scratch = mkdtempSync(path.join(tmpdir(), 'podlink-lifecycle-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('should say so when the cluster is already up', async () => {
    const r = await clusterScript('up');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already up \(kubeconfig: \/run\/podlink-cluster\/kubeconfig/);
  });

  it('should wait while another cluster script holds the lock, say so, then find the cluster up', async () => {
    // A stand-in for a second `cluster:up` (or a build) running: it holds the scripts' lock for 3 s.
    const lock = path.join(scratch, 'cluster.lock');
    const holder = spawn('flock', [lock, 'sleep', '3'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      const r = await clusterScript('up', { PODLINK_CLUSTER_LOCK: lock });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^cluster: waiting for another test-cluster script to finish \(.*lock: .*cluster\.lock\)$/m);
      assert.match(r.stdout, /already up \(kubeconfig: \/run\/podlink-cluster\/kubeconfig/);
      assert.ok(Date.now() - t0 >= 2000, 'it waited for the holder');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('should run two cluster:up at once without booting twice', async () => {
    const [a, b] = await Promise.all([clusterScript('up'), clusterScript('up')]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /already up/);
    }
  });

  it('should leave the machine as it found it after cluster:down', async () => {
    const r = await clusterScript('down');
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /nothing left/);
    down = machineState();
    assert.deepEqual(down.netns, [], 'cluster netns left');
    assert.deepEqual(down.mounts, [], 'mounts left');
    assert.deepEqual(down.processes, [], 'processes left');
    assert.ok(!down.cgroups.some((c) => c.endsWith('/kubepods')), `cgroups left: ${down.cgroups}`);
    const baseline = process.env.PODLINK_CLUSTER_BASELINE;
    if (baseline) {
      // Recorded by scripts/test.sh before it booted the cluster.
      assert.deepEqual(down, JSON.parse(readFileSync(baseline, 'utf8')), 'machine differs from before the boot');
    }
  });

  it('should name a missing CNI plugin and start nothing', async () => {
    const empty = path.join(scratch, 'no-cni');
    mkdirSync(empty);
    const r = await clusterScript('up', { PODLINK_CLUSTER_CNI_BIN: empty });
    assert.notEqual(r.code, 0);
    assert.deepEqual(errorLines(r.stderr),
      [`cluster: missing prerequisite: CNI plugin bridge not found in ${empty} (apt-get install containernetworking-plugins)`]);
    assert.deepEqual(machineState(), down);
  });

  it('should name a missing program and start nothing', async () => {
    // A PATH with every program of the machine except runc.
    const bin = path.join(scratch, 'bin');
    mkdirSync(bin);
    for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
      for (const name of readdirSync(dir)) {
        if (name === 'runc') continue;
        try {
          symlinkSync(path.join(dir, name), path.join(bin, name));
        } catch {
          // the same name earlier in PATH wins, as it would for the shell
        }
      }
    }
    const r = await clusterScript('up', { PATH: bin });
    assert.notEqual(r.code, 0);
    assert.deepEqual(errorLines(r.stderr), ['cluster: missing prerequisite: runc not found in PATH (apt-get install runc)']);
    assert.deepEqual(machineState(), down);
  });

  it('should name a component that fails to start, with its log, and stop what it started', async () => {
    const r = await clusterScript('up', { PODLINK_CLUSTER_ARGS_KUBE_APISERVER: '--no-such-flag' });
    assert.notEqual(r.code, 0);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cluster: kube-apiserver failed to start: exited with status \d+.*unknown flag: --no-such-flag.*; log: \/var\/log\/podlink-cluster\/kube-apiserver\.log$/);
    assert.match(readFileSync(`${LOGS}/kube-apiserver.log`, 'utf8'), /unknown flag: --no-such-flag/);
    // containerd and etcd were running by then; they must be gone again.
    assert.match(r.stdout, /started etcd/);
    assert.deepEqual(machineState(), down);
  });

  it('should name a busy port and the component that could not bind it', async () => {
    // The scheduler is pointed at the port the controller-manager (started and healthy before
    // it) already listens on.
    const r = await clusterScript('up', { PODLINK_CLUSTER_ARGS_KUBE_SCHEDULER: '--secure-port=10257' });
    assert.notEqual(r.code, 0);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cluster: kube-scheduler failed to start: .*127\.0\.0\.1:10257: bind: address already in use; log: \/var\/log\/podlink-cluster\/kube-scheduler\.log$/);
    assert.deepEqual(machineState(), down);
  });

  it('should boot again after all that, once even when two cluster:up start together', async () => {
    // The second starts while the first boots: it must wait for the lock, then find the cluster up.
    const [r, second] = await Promise.all([
      clusterScript('up'),
      new Promise((res) => setTimeout(res, 1000)).then(() => clusterScript('up')),
    ]);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /kubeconfig: \/run\/podlink-cluster\/kubeconfig/);
    assert.match(r.stdout, /^cluster: up in /m);
    assert.equal(second.code, 0, `${second.stdout}${second.stderr}`);
    assert.match(second.stdout, /^cluster: waiting for another test-cluster script to finish \(cluster:up \(pid \d+\)/m);
    assert.match(second.stdout, /already up/);
    assert.doesNotMatch(second.stdout, /started kube-apiserver/);
    const env = clusterEnv();
    const node = await kubectlJson(env, ['get', 'node', env.node]);
    assert.equal(node.status.conditions.find((c: any) => c.type === 'Ready')?.status, 'True');
  });
});
