// A privileged hostPID pod — what the podlink agent will be — runs, sees the node's processes, and
// can enter another pod's network namespace and read its files through /proc/<pid>/root.
// A hostPID pod sees every process of this machine, the test runner included: the probe only
// reads, and only the demo pod's process it is pointed at.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, eventually, kubectl, kubectlJson, podOf } from './cluster.js';

const PROBE = `hostpid-probe-${process.pid}`;

/** Host pid of the demo app process of `service`, found from this (the machine's) pid namespace. */
function hostPidOf(service: string): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (cmd.includes('/app/server.mjs') && environ.includes(`SERVICE_NAME=${service}`)) return Number(pid);
    } catch {
      // processes come and go while we scan
    }
  }
  throw new Error(`no process of ${service} found on this machine`);
}

describe('a privileged hostPID pod', () => {
  let env: ClusterEnv;
  before(async () => {
    env = clusterEnv();
    const manifest = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: PROBE, namespace: 'default' },
      spec: {
        hostPID: true, terminationGracePeriodSeconds: 0,
        containers: [{ name: 'probe', image: 'localhost/busybox:local', imagePullPolicy: 'Never',
          command: ['sleep', '3600'], securityContext: { privileged: true } }],
      },
    };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify(manifest));
  });
  after(async () => {
    await kubectl(env, ['delete', 'pod', PROBE, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  });

  it('should run', async () => {
    const pod = await eventually(async () => {
      const p = await kubectlJson(env, ['get', 'pod', PROBE]);
      if (p.status.phase !== 'Running') throw new Error(`probe is ${p.status.phase}: ${JSON.stringify(p.status.containerStatuses)}`);
      return p;
    }, 60_000);
    assert.equal(pod.spec.hostPID, true);
    assert.equal(pod.spec.containers[0].securityContext.privileged, true);
  });

  it('should see the node\'s processes, including another pod\'s app', async () => {
    const pid = hostPidOf('service-c');
    const cmd = await kubectl(env, ['exec', PROBE, '--', 'cat', `/proc/${pid}/cmdline`]);
    assert.equal(cmd.split('\0').filter(Boolean).join(' '), '/usr/bin/node /app/server.mjs');
  });

  it('should enter another pod\'s network namespace and read its files', async () => {
    const target = await podOf(env, 'service-c');
    const pid = hostPidOf('service-c');
    const addr = await kubectl(env, ['exec', PROBE, '--', 'nsenter', '-t', String(pid), '-n', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(addr, new RegExp(`inet ${target.ip.replace(/\./g, '\\.')}/`));
    const cm = await kubectlJson(env, ['get', 'configmap', 'demo-config']);
    const file = await kubectl(env, ['exec', PROBE, '--', 'cat', `/proc/${pid}/root/app/config/settings.json`]);
    assert.equal(file, cm.data['settings.json']);
  });
});
