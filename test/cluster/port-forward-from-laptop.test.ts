// kubectl port-forward from the laptop netns: kubectl → API server → kubelet → containerd's
// streaming server → the pod's port. The HTTP client runs in the laptop netns too (the
// forwarded port listens on that netns' loopback), and the answer must come from the pod.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, inLaptop, kubectlArgv, podOf, run } from './cluster.js';

/** Starts `kubectl port-forward <target> :<port>` and resolves with the local port it chose. */
function portForward(env: ClusterEnv, target: string, port: number): Promise<{ child: ChildProcess; local: number }> {
  const [cmd, args] = inLaptop(env, [...kubectlArgv(env), 'port-forward', target, `:${port}`]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`port-forward ${target} did not start: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, local: Number(m[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`port-forward ${target} exited ${code}: ${out}`)));
  });
}

/** GET http://127.0.0.1:<port><path> from inside the laptop netns. */
async function getInLaptop(env: ClusterEnv, port: number, urlPath: string): Promise<any> {
  const [cmd, args] = inLaptop(env, ['node', '-e', `
    fetch('http://127.0.0.1:${port}${urlPath}', { signal: AbortSignal.timeout(10000) })
      .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() })))
      .catch((e) => { console.error(String(e.cause ?? e)); process.exit(1); });`]);
  const r = await run(cmd, args, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `request through the port-forward failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('kubectl port-forward from the laptop netns', () => {
  let env: ClusterEnv;
  const children: ChildProcess[] = [];
  before(() => {
    env = clusterEnv();
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('should return the pod\'s own response through a port-forward to the pod', async () => {
    const pod = await podOf(env, 'service-c');
    const pf = await portForward(env, `pod/${pod.name}`, 8080);
    children.push(pf.child);
    const got = await getInLaptop(env, pf.local, '/whoami');
    assert.equal(got.status, 200);
    assert.equal(got.body.service, 'service-c');
    assert.equal(got.body.pod, pod.name);
  });

  it('should forward to a Service\'s pod, which calls on into the cluster', async () => {
    const pf = await portForward(env, 'service/service-b', 8080);
    children.push(pf.child);
    const got = await getInLaptop(env, pf.local, '/');
    assert.equal(got.status, 200);
    assert.equal(got.body.service, 'service-b');
    assert.equal(got.body.next.service, 'service-c');
  });
});
