// An image made from a spec by testcluster/image.sh (how the podlink agent image will get into the
// cluster) is imported into the running cluster and runs as a pod with imagePullPolicy: Never.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, eventually, kubectl, kubectlJson, run, TESTCLUSTER } from './cluster.js';

const POD = `spec-image-${process.pid}`;

describe('an image built from a spec', () => {
  let env: ClusterEnv;
  let dir: string;
  const secret = randomUUID();
  before(() => {
    env = clusterEnv();
    dir = fs.mkdtempSync(path.join(tmpdir(), 'podlink-spec-image-'));
  });
  after(async () => {
    await kubectl(env, ['delete', 'pod', POD, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should be imported by testcluster/image.sh and run as a pod', async () => {
    const spec = path.join(dir, 'podlink-spec-test.json');
    fs.writeFileSync(spec, JSON.stringify({
      name: 'localhost/podlink-spec-test:local',
      copy: [{ from: '/bin/busybox', to: '/bin/busybox' }],
      files: [{ path: '/hello.txt', content: `${secret}\n` }],
      entrypoint: ['/bin/busybox', 'cat', '/hello.txt'],
    }));
    const r = await run('bash', [path.join(TESTCLUSTER, 'image.sh'), spec], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /imported .*podlink-spec-test\.tar/);

    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: 'default' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'localhost/podlink-spec-test:local', imagePullPolicy: 'Never' }] },
    };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify(pod));
    await eventually(async () => {
      const p = await kubectlJson(env, ['get', 'pod', POD]);
      if (p.status.phase !== 'Succeeded') throw new Error(`pod is ${p.status.phase}: ${JSON.stringify(p.status.containerStatuses)}`);
    }, 60_000);
    assert.equal((await kubectl(env, ['logs', POD])).trim(), secret);
  });
});
