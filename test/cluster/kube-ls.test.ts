// `podlink ls` as a user runs it: the built CLI, spawned inside the laptop netns, against the
// test cluster's target workloads (testcluster/manifests/targets.yaml and the demo).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { REPO, inLaptop, run } from './cluster.js';
import { type KubeTestEnv, kubeTestEnv } from './kube-laptop.js';

describe('podlink ls', () => {
  let env: KubeTestEnv;
  before(() => {
    env = kubeTestEnv();
  });

  /** The CLI with a clean environment: no PODLINK_*, no KUBECONFIG, no ~/.kube of the machine. */
  function podlink(args: string[], extraEnv: Record<string, string> = {}) {
    const [cmd, argv] = inLaptop(env, [process.execPath, `${REPO}/bin/podlink.js`, ...args]);
    return run(cmd, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...extraEnv }, timeoutMs: 60_000 });
  }

  it('should print one target path per line for the kubeconfig\'s namespace', async () => {
    const r = await podlink(['ls', '--kubeconfig', env.kubeconfigs.alice]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    for (const p of ['deployment/service-a', 'statefulset/ledger', 'replicaset/legacy-worker', 'job/batch-worker', 'cronjob/nightly-report', 'service/service-c',
      'pod/ledger-0', 'pod/meshed/container/istio-proxy', 'pod/meshed/container/app']) assert.ok(lines.includes(p), `${p} in\n${r.stdout}`);
    assert.ok(lines.every((l) => /^(pod|deployment|statefulset|replicaset|job|cronjob|service|rollout)\/[a-z0-9.-]+(\/container\/[a-z0-9-]+)?$/.test(l)), r.stdout);
    assert.ok(lines.indexOf('pod/ledger-0') < lines.indexOf('deployment/service-a'), 'pods first, then the other kinds');
  });

  it('should prefix the namespace with -A, and print JSON with --output json', async () => {
    const r = await podlink(['ls', '-A', '--kubeconfig', env.kubeconfigs.bob]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^kube-system +deployment\/coredns$/m);
    assert.match(r.stdout, /^default +statefulset\/ledger$/m);
    const j = await podlink(['ls', '--output', 'json', '-n', 'kube-system', '--kubeconfig', env.kubeconfigs.bob]);
    assert.equal(j.code, 0, j.stderr);
    assert.ok((JSON.parse(j.stdout) as string[]).includes('deployment/coredns'));
    const ja = await podlink(['ls', '-A', '-o', 'json'], { KUBECONFIG: env.kubeconfigs.bob });
    assert.ok((JSON.parse(ja.stdout) as { namespace: string; path: string }[]).some((x) => x.namespace === 'default' && x.path === 'cronjob/nightly-report'));
  });

  it('should print one line and exit 1 on errors', async () => {
    const cases: [string[], string][] = [
      [['ls', '--kubeconfig', env.kubeconfigs.nobody], 'podlink: forbidden: user nobody cannot list pods in namespace default (context podlink-testcluster) (ask your cluster admin for the podlink role in docs/rbac.md)\n'],
      [['ls', '-A', '--kubeconfig', env.kubeconfigs.alice], 'podlink: forbidden: user alice cannot list pods cluster-wide (context podlink-testcluster) (ask your cluster admin for the podlink role in docs/rbac.md)\n'],
      [['ls', '--kubeconfig', env.kubeconfigs.admin, '--context', 'prod'], `podlink: unknown context prod in kubeconfig ${env.kubeconfigs.admin}; known contexts: podlink-testcluster (pick one of them with --context)\n`],
      [['ls', '-n', 'Team_A', '--kubeconfig', env.kubeconfigs.admin], 'podlink: namespace `Team_A` must be lowercase letters, digits and `-`, starting and ending with a letter or digit (give a namespace name like `default` or `team-a`)\n'],
      [['ls'], 'podlink: no kubeconfig: /nonexistent/.kube/config does not exist and KUBECONFIG is not set (give one with --kubeconfig, set KUBECONFIG, or create ~/.kube/config)\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = await podlink(args);
      assert.equal(r.stderr, stderr, args.join(' '));
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
    }
  });

  it('should explain itself with --help, with examples', async () => {
    const r = await podlink(['ls', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /List the targets in a namespace/);
    assert.match(r.stdout, /podlink ls -A --output json/);
  });
});
