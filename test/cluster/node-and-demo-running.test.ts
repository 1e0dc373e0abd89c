// The booted cluster: a Ready node running the version we built, CoreDNS and the seed demo up,
// and the demo pods seeing their Secret, ConfigMap env and ConfigMap file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, kubectlJson, nodeInPod, podOf } from './cluster.js';
import { machineState } from './machine-state.js';

describe('the booted test cluster', () => {
  let env: ClusterEnv;
  before(() => {
    env = clusterEnv();
  });

  it('should have its one node Ready, running the Kubernetes version it was built as', async () => {
    const node = await kubectlJson(env, ['get', 'node', env.node]);
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    assert.equal(ready?.status, 'True', `node conditions: ${JSON.stringify(node.status.conditions)}`);
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.34.4');
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\.6\./);
    const internal = node.status.addresses.find((a: any) => a.type === 'InternalIP');
    assert.equal(internal?.address, '10.88.0.2');
  });

  it('should leave the machine\'s kernel settings as they were before the boot while it runs', async () => {
    const baseline = process.env.PODLINK_CLUSTER_BASELINE;
    assert.ok(baseline, 'PODLINK_CLUSTER_BASELINE is not set: scripts/test.sh snapshots the machine before it boots the cluster (node dist/test/cluster/machine-state.js > FILE, then PODLINK_CLUSTER_BASELINE=FILE)');
    const before = JSON.parse(readFileSync(baseline, 'utf8')).sysctls;
    const now = machineState().sysctls;
    for (const k of ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops', 'net.ipv4.ip_forward']) {
      assert.equal(now[k], before[k], k);
    }
  });

  it('should run CoreDNS and every demo deployment with all replicas available', async () => {
    const dns = await kubectlJson(env, ['-n', 'kube-system', 'get', 'deployment', 'coredns']);
    assert.equal(dns.status.availableReplicas, 1);
    for (const name of ['service-a', 'service-b', 'service-c']) {
      const pods = await kubectlJson(env, ['get', 'pods', '-l', `app=${name}`]);
      const running = pods.items.filter((p: any) => p.status.phase === 'Running');
      assert.equal(running.length, 1, `${name} pods: ${pods.items.map((p: any) => p.status.phase).join(',')}`);
      assert.equal(running[0].spec.containers[0].image, 'localhost/node-app:local');
    }
  });

  it('should give demo pods the Secret and ConfigMap values as env and the ConfigMap file', async () => {
    const cm = await kubectlJson(env, ['get', 'configmap', 'demo-config']);
    const secret = await kubectlJson(env, ['get', 'secret', 'demo-secret']);
    const token = Buffer.from(secret.data['api-token'], 'base64').toString();
    const pod = await podOf(env, 'service-c');
    const seen = await nodeInPod(env, pod.name, `
      import { readFileSync } from 'node:fs';
      console.log(JSON.stringify({ greeting: process.env.GREETING, token: process.env.API_TOKEN,
        file: readFileSync('/app/config/settings.json', 'utf8') }));`);
    assert.equal(seen.greeting, cm.data.greeting);
    assert.equal(seen.token, token);
    assert.equal(seen.file, cm.data['settings.json']);
    // The app reports a fingerprint of the secret, never the secret itself.
    const answer = await nodeInPod(env, pod.name, `
      const r = await fetch('http://127.0.0.1:8080/whoami'); console.log(await r.text());`);
    assert.equal(answer.tokenSha256, createHash('sha256').update(token).digest('hex').slice(0, 16));
    assert.equal(answer.pod, pod.name);
  });
});
