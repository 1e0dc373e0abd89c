/**
 * `podlink exec` against the cluster when something is wrong: one readable line saying what and what
 * to do, a non-zero exit, and the cluster left as it was (no agent pod or Job). Run from the laptop
 * netns, as a user would. (kube-targets and kube-agent-pod cover each error of kube/ in detail; this
 * proves the CLI turns every one of them into its line and cleans up.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, type ClusterEnv, clusterEnv, inLaptop, kubectl, run } from './cluster.js';
import { agentPods, podlinkArgv } from './podlink.js';

/** The users `up` makes, next to the admin kubeconfig. */
function kubeconfigOf(env: ClusterEnv, user: 'nobody' | 'alice'): string {
  return env.kubeconfig.replace(/kubeconfig$/, `kubeconfig-${user}`);
}

describe('podlink exec errors on the cluster: one line, non-zero, nothing left', () => {
  let env: ClusterEnv;
  let tmp: string;

  before(() => {
    env = clusterEnv();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-kube-errors-'));
  });
  after(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await kubectl(env, ['delete', 'rolebinding,role', '-l', 'podlink.dev/test=no-portforward', '--ignore-not-found']);
  });

  /** Run exec; return its stderr's last line after checking the exit and that nothing is left. */
  async function fails(args: string[], kubeconfig = env.kubeconfig, command = ['true']): Promise<string> {
    const [cmd, argv] = inLaptop(env, podlinkArgv(env, ['exec', '-q', ...args, '--', ...command], kubeconfig));
    const r = await run(cmd, argv, { cwd: REPO, timeoutMs: 120_000 });
    assert.notEqual(r.code, 0, `exec should fail: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', 'the command never ran');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.deepEqual(await agentPods(env), [], 'no agent pod or Job is left');
    return lines[0]!;
  }

  it('should name the server and context when the API server is unreachable', async () => {
    const cfg = path.join(tmp, 'closed-port');
    fs.writeFileSync(cfg, fs.readFileSync(env.kubeconfig, 'utf8').replace(/server: .*/, 'server: https://127.0.0.1:1'));
    const line = await fails(['-t', 'deployment/service-a'], cfg);
    assert.match(line, /^podlink: cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:1 \(context [\w-]+\): .*ECONNREFUSED/);
  });

  it('should list the known contexts for an unknown one', async () => {
    const line = await fails(['--context', 'no-such-context', '-t', 'deployment/service-a']);
    assert.match(line, /^podlink: .*no-such-context.*podlink-testcluster/);
  });

  it('should name user, verb, resource and namespace when RBAC forbids it', async () => {
    const line = await fails(['-t', 'deployment/service-a'], kubeconfigOf(env, 'nobody'));
    assert.match(line, /^podlink: forbidden: user nobody cannot get deployments \(API group apps\) in namespace default .*docs\/rbac\.md/);
  });

  it('should say which target does not exist', async () => {
    const line = await fails(['-t', 'deployment/no-such-app']);
    assert.equal(line, 'podlink: deployment/no-such-app not found in namespace default (list what can be targeted with `podlink ls -n default`)');
  });

  it("should list the pod's containers when the named one is not there", async () => {
    const line = await fails(['-t', 'deployment/service-a/container/nope']);
    assert.match(line, /^podlink: .*container nope.*\bapp\b/);
  });

  it('should name the agent image that cannot be pulled, at once', async () => {
    const t0 = Date.now();
    const line = await fails(['-t', 'deployment/service-a', '-i', 'localhost/no-such-agent:1']);
    assert.match(line, /^podlink: .*localhost\/no-such-agent:1.*agent\.image/);
    assert.ok(Date.now() - t0 < 60_000, 'seen from the pod, not after agent.startup_timeout');
  });

  it('should give up after agent.startup_timeout when the agent never answers', async () => {
    // An image that runs but is no agent: its port never opens.
    const cfg = path.join(tmp, 'timeout.json');
    fs.writeFileSync(cfg, JSON.stringify({ agent: { image: 'localhost/node-app:local', image_pull_policy: 'Never', startup_timeout: 6 } }));
    const line = await fails(['-f', cfg, '-t', 'deployment/service-a']);
    // The last attempt saw the port-forward refused, or (when the kubelet's answer came later) no Hello answered.
    assert.match(line, /^podlink: the agent in pod default\/podlink-agent-\w+-\w+ did not answer \(no answer within \d+ s; last: (nothing listens on port \d+ |no answer to Hello within [\d.]+ s).*\(raise agent\.startup_timeout, or see why: kubectl logs/);
  });

  it('should say so when the port-forward is refused', async () => {
    // nobody may do everything podlink needs except pods/portforward.
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role',
      metadata: { name: 'no-portforward', namespace: 'default', labels: { 'podlink.dev/test': 'no-portforward' } },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      ],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
      metadata: { name: 'no-portforward', namespace: 'default', labels: { 'podlink.dev/test': 'no-portforward' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-portforward' },
      subjects: [{ kind: 'User', name: 'nobody', apiGroup: 'rbac.authorization.k8s.io' }],
    };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding] }));
    const line = await fails(['-t', 'deployment/service-a'], kubeconfigOf(env, 'nobody'));
    assert.match(line, /^podlink: forbidden: user nobody cannot create pods\/portforward in namespace default/);
  });
});
