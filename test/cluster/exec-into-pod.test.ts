// kubectl exec from the laptop netns (streaming through the kubelet), with and without stdin.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, kubectl, kubectlJson, podOf } from './cluster.js';

describe('kubectl exec into a demo pod', () => {
  let env: ClusterEnv;
  let pod: string;
  before(async () => {
    env = clusterEnv();
    pod = (await podOf(env, 'service-b')).name;
  });

  it('should run a command in the container and return its output', async () => {
    const cm = await kubectlJson(env, ['get', 'configmap', 'demo-config']);
    const out = await kubectl(env, ['exec', pod, '--', 'cat', '/app/config/settings.json']);
    assert.equal(out, cm.data['settings.json']);
    const host = await kubectl(env, ['exec', pod, '--', 'hostname']);
    assert.equal(host.trim(), pod);
  });

  it('should carry stdin to the command and its stdout back', async () => {
    const line = `podlink-${randomUUID()}`;
    const out = await kubectl(env, ['exec', '-i', pod, '--', 'sh', '-c', 'read x; echo "got:$x"'], `${line}\n`);
    assert.equal(out.trim(), `got:${line}`);
  });

  it('should report the command\'s exit status', async () => {
    await assert.rejects(kubectl(env, ['exec', pod, '--', 'sh', '-c', 'exit 7']), /command terminated with exit code 7/);
  });
});
