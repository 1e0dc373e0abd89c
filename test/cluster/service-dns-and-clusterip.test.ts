// From inside a pod: cluster DNS names resolve to the Service's ClusterIP (CoreDNS works), and a
// request to that ClusterIP reaches a backend of that Service (kube-proxy works); the demo chain
// service-a → service-b → service-c answers end to end.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, kubectlJson, nodeInPod, podOf } from './cluster.js';

describe('Services and DNS seen from inside a pod', () => {
  let env: ClusterEnv;
  let clientPod: string;
  let serviceB: { clusterIP: string };
  before(async () => {
    env = clusterEnv();
    clientPod = (await podOf(env, 'service-a')).name;
    serviceB = (await kubectlJson(env, ['get', 'service', 'service-b'])).spec;
  });

  it('should resolve service-b and service-b.default.svc.cluster.local to its ClusterIP', async () => {
    // dns.lookup goes through the pod's resolv.conf (search list, ndots) like any libc program.
    const got = await nodeInPod(env, clientPod, `
      import { lookup } from 'node:dns/promises';
      const short = await lookup('service-b', { family: 4 });
      const full = await lookup('service-b.default.svc.cluster.local', { family: 4 });
      console.log(JSON.stringify({ short: short.address, full: full.address }));`);
    assert.match(serviceB.clusterIP, /^10\.96\./);
    assert.deepEqual(got, { short: serviceB.clusterIP, full: serviceB.clusterIP });
  });

  it('should reach a service-b backend through the ClusterIP', async () => {
    const backend = await podOf(env, 'service-b');
    const got = await nodeInPod(env, clientPod, `
      const r = await fetch('http://${serviceB.clusterIP}:8080/whoami', { signal: AbortSignal.timeout(10000) });
      console.log(JSON.stringify({ status: r.status, body: await r.json() }));`);
    assert.equal(got.status, 200);
    assert.equal(got.body.service, 'service-b');
    assert.equal(got.body.pod, backend.name);
  });

  it('should let a pod reach itself through its own Service (hairpin)', async () => {
    const self = await podOf(env, 'service-a');
    const got = await nodeInPod(env, self.name, `
      const r = await fetch('http://service-a:8080/whoami', { signal: AbortSignal.timeout(10000) });
      console.log(await r.text());`);
    assert.equal(got.pod, self.name);
  });

  it('should answer the demo chain service-a → service-b → service-c by DNS names', async () => {
    const got = await nodeInPod(env, clientPod, `
      const r = await fetch('http://service-a.default.svc.cluster.local:8080/', { signal: AbortSignal.timeout(15000) });
      console.log(JSON.stringify({ status: r.status, body: await r.json() }));`);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.service, 'service-a');
    assert.equal(got.body.next.service, 'service-b');
    assert.equal(got.body.next.next.service, 'service-c');
    assert.equal(got.body.next.next.next, undefined);
    assert.match(got.body.next.next.config, /"newCheckout": true/);
  });
});
