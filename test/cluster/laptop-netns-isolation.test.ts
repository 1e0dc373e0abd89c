// The cluster's network stays in its own netns: neither it nor the laptop netns has a default
// route, and from the laptop only the API server answers — pod and Service IPs have no route.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, inLaptop, kubectlJson, podOf, run } from './cluster.js';

/** Tries a TCP connect from the laptop netns; resolves with "connected" or the error code. */
async function connectFromLaptop(env: ClusterEnv, host: string, port: number): Promise<string> {
  const [cmd, args] = inLaptop(env, ['node', '-e', `
    const s = require('net').connect(${port}, '${host}');
    s.setTimeout(3000, () => { console.log('ETIMEDOUT'); process.exit(0); });
    s.on('connect', () => { console.log('connected'); process.exit(0); });
    s.on('error', (e) => { console.log(e.code); process.exit(0); });`]);
  const r = await run(cmd, args, { timeoutMs: 15_000 });
  return r.stdout.trim();
}

describe('network isolation of the test cluster', () => {
  let env: ClusterEnv;
  before(() => {
    env = clusterEnv();
  });

  it('should give neither the cluster netns nor the laptop netns a default route', async () => {
    for (const ns of [env.netns, env.laptopNetns]) {
      const r = await run('nsenter', [`--net=/run/netns/${ns}`, '--', 'ip', 'route', 'show']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes('10.88.0.0/24'), `${ns} routes: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /^default/m, `${ns} has a default route`);
    }
  });

  it('should let the laptop reach the API server', async () => {
    assert.equal(await connectFromLaptop(env, '10.88.0.2', 6443), 'connected');
  });

  it('should not let the laptop reach pod or Service IPs', async () => {
    const pod = await podOf(env, 'service-c');
    const svc = await kubectlJson(env, ['get', 'service', 'service-c']);
    assert.equal(await connectFromLaptop(env, pod.ip, 8080), 'ENETUNREACH');
    assert.equal(await connectFromLaptop(env, svc.spec.clusterIP, 8080), 'ENETUNREACH');
  });
});
