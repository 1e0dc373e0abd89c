// The cluster's network stays in its own netns: neither it nor the laptop netns (kcl-laptop and the
// second laptop, kcl-laptop2) has a default route, and from a laptop only the API server answers —
// pod and Service IPs have no route.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, kubectlJson, laptop2Netns, podOf, run } from './cluster.js';

/** Tries a TCP connect from a laptop netns; resolves with "connected" or the error code. */
async function connectFrom(netns: string, host: string, port: number): Promise<string> {
  const r = await run('nsenter', [`--net=/run/netns/${netns}`, '--', 'node', '-e', `
    const s = require('net').connect(${port}, '${host}');
    s.setTimeout(3000, () => { console.log('ETIMEDOUT'); process.exit(0); });
    s.on('connect', () => { console.log('connected'); process.exit(0); });
    s.on('error', (e) => { console.log(e.code); process.exit(0); });`], { timeoutMs: 15_000 });
  return r.stdout.trim();
}

describe('network isolation of the test cluster', () => {
  let env: ClusterEnv;
  let laptops: string[];
  before(() => {
    env = clusterEnv();
    laptops = [env.laptopNetns, laptop2Netns()];
  });

  it('should give neither the cluster netns nor a laptop netns a default route', async () => {
    for (const [ns, net] of [[env.netns, '10.88.0.0/24'], [env.laptopNetns, '10.88.0.0/24'], [laptops[1]!, '10.88.1.0/24']] as const) {
      const r = await run('nsenter', [`--net=/run/netns/${ns}`, '--', 'ip', 'route', 'show']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(net), `${ns} routes: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /^default/m, `${ns} has a default route`);
    }
  });

  it('should let each laptop reach the API server', async () => {
    for (const ns of laptops) assert.equal(await connectFrom(ns, '10.88.0.2', 6443), 'connected', ns);
  });

  it('should not let a laptop reach pod or Service IPs', async () => {
    const pod = await podOf(env, 'service-c');
    const svc = await kubectlJson(env, ['get', 'service', 'service-c']);
    for (const ns of laptops) {
      assert.equal(await connectFrom(ns, pod.ip, 8080), 'ENETUNREACH', ns);
      assert.equal(await connectFrom(ns, svc.spec.clusterIP, 8080), 'ENETUNREACH', ns);
    }
  });
});
