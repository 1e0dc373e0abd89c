/**
 * Go programs on the cluster: a Go binary built without cgo (and one with cgo) bypasses libc, so
 * `podlink exec -t deployment/service-a` serves it through the seccomp supervisor instead of the
 * layer — over the same intproxy and the same port-forwarded agent. It must see service-a's Secret env,
 * its ConfigMap file, and reach service-b by its short name. Run from the laptop netns.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildGo } from '../helpers/go-build.js';
import { REPO, type ClusterEnv, clusterEnv, inLaptop, kubectl, kubectlJson, podOf, run } from './cluster.js';
import { agentPods, podlinkArgv } from './podlink.js';

describe('podlink exec of a Go program on the cluster (the supervisor path)', () => {
  let env: ClusterEnv;
  let dir: string;
  let file: string;
  let clusterIp: string;
  let pod: string;

  before(async () => {
    env = clusterEnv();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-go-kube-'));
    pod = (await podOf(env, 'service-a')).name;
    file = await kubectl(env, ['exec', pod, '--', 'cat', '/app/config/settings.json']);
    clusterIp = (await kubectlJson(env, ['get', 'service', 'service-b'])).spec.clusterIP;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const cgo of [false, true]) {
    it(`should give a Go program built ${cgo ? 'with' : 'without'} cgo the pod's env, hostname, file and service-b`, async () => {
      const bin = buildGo('gokube', dir, cgo);
      const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '--output', 'json', '-t', 'deployment/service-a', '--', bin]));
      const r = await run(cmd, args, { cwd: REPO, timeoutMs: 180_000 });
      assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
      const running = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'running');
      assert.equal(running?.path, 'supervisor', 'the supervisor serves it');
      const report = JSON.parse(r.stdout);
      assert.equal(report.env, 'podlink-demo-token-7f3a');
      assert.equal(report.hostname, pod, "os.Hostname: the pod's (uname, answered by the supervisor)");
      assert.equal(report.file, file);
      assert.equal(report.resolved, clusterIp);
      assert.equal(JSON.parse(report.http).service, 'service-b');
      assert.deepEqual(await agentPods(env), []);
    });
  }
});
