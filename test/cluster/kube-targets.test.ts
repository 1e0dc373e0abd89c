// Target resolution, kubeconfig loading and `podlink ls` against the real test cluster, each
// answer checked against what kubectl says. kube/ runs inside the laptop netns (kube-laptop.ts).
// Workloads of every kind come from testcluster/manifests/targets.yaml; the "no ready pod" cases
// get a namespace of their own, deleted afterwards.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlJson } from './cluster.js';
import { type KubeTestEnv, LaptopKube, failure, kubeTestEnv } from './kube-laptop.js';

const NS = `podlink-kube-targets-${process.pid}`;

describe('kube target resolution on the test cluster', () => {
  let env: KubeTestEnv;
  let k: LaptopKube;
  let scratch: string;
  const admin = () => ({ kubeconfig: env.kubeconfigs.admin });

  /** The Ready pod kubectl sees for label app=<app>, with the status of `container`. */
  async function expected(app: string, container = 'app') {
    const list = await kubectlJson(env, ['-n', 'default', 'get', 'pods', '-l', `app=${app}`]);
    const pods = list.items.filter((p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp &&
      p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    assert.equal(pods.length, 1, `one ready pod with app=${app}`);
    const p = pods[0];
    const cs = p.status.containerStatuses.find((c: any) => c.name === container);
    return { pod: p.metadata.name, uid: p.metadata.uid, nodeName: p.spec.nodeName, podIP: p.status.podIP, containerId: cs.containerID.replace(/^containerd:\/\//, '') };
  }

  before(async () => {
    env = kubeTestEnv();
    k = new LaptopKube(env);
    scratch = mkdtempSync(path.join(tmpdir(), 'podlink-kube-targets-'));
    await kubectl(env, ['create', 'namespace', NS]);
    const busybox = (name: string, replicas: number, ready: boolean) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
      spec: {
        replicas, selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'main', image: 'localhost/busybox:local', imagePullPolicy: 'Never', command: ['sleep', '3600'],
              readinessProbe: { exec: { command: [ready ? 'true' : 'false'] }, periodSeconds: 1 } }],
          },
        },
      },
    });
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [busybox('scaled-to-zero', 0, true), busybox('never-ready', 1, false)] }));
    await eventually(async () => {
      const p = await kubectlJson(env, ['-n', NS, 'get', 'pods', '-l', 'app=never-ready']);
      if (p.items[0]?.status.phase !== 'Running') throw new Error('never-ready not running yet');
    }, 60_000);
  });
  after(async () => {
    k?.close();
    rmSync(scratch, { recursive: true, force: true });
    await kubectl(env, ['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
  });

  describe('every target kind', () => {
    const cases: [string, string, string][] = [
      ['deployment/service-a', 'service-a', 'deployment/service-a → pod/'],
      ['statefulset/ledger', 'ledger', 'statefulset/ledger → pod/ledger-0/container/app'],
      ['replicaset/legacy-worker', 'legacy-worker', 'replicaset/legacy-worker → pod/'],
      ['job/batch-worker', 'batch-worker', 'job/batch-worker → pod/batch-worker-'],
      ['cronjob/nightly-report', 'nightly-report', 'cronjob/nightly-report → job/nightly-report-manual → pod/nightly-report-manual-'],
      ['service/service-b', 'service-b', 'service/service-b → pod/'],
    ];
    for (const [target, app, describe] of cases) {
      it(`should resolve ${target} to the ready pod kubectl shows`, async () => {
        const want = await expected(app);
        const got = await k.call('resolve', { sel: admin(), path: target });
        assert.equal(got.namespace, 'default');
        assert.equal(got.pod, want.pod);
        assert.equal(got.uid, want.uid);
        assert.equal(got.container, 'app');
        assert.equal(got.containerId, want.containerId);
        assert.match(got.containerId, /^[0-9a-f]{64}$/);
        assert.equal(got.runtime, 'containerd');
        assert.equal(got.nodeName, want.nodeName);
        assert.equal(got.podIP, want.podIP);
        assert.ok(got.describe.startsWith(describe), got.describe);
        assert.ok(got.describe.endsWith('/container/app'), got.describe);
      });
    }

    it('should resolve pod/NAME, and a bare NAME as a pod', async () => {
      const want = await expected('ledger');
      for (const p of ['pod/ledger-0', 'ledger-0']) {
        const got = await k.call('resolve', { sel: admin(), path: p });
        assert.equal(got.pod, 'ledger-0');
        assert.equal(got.containerId, want.containerId);
        assert.equal(got.describe, 'pod/ledger-0/container/app');
      }
    });
  });

  describe('container choice', () => {
    it('should skip the istio-proxy sidecar and take the app container', async () => {
      const want = await expected('meshed', 'app');
      const got = await k.call('resolve', { sel: admin(), path: 'pod/meshed' });
      assert.equal(got.container, 'app');
      assert.equal(got.containerId, want.containerId);
    });

    it('should honour /container/C, even for a sidecar', async () => {
      const want = await expected('meshed', 'istio-proxy');
      const got = await k.call('resolve', { sel: admin(), path: 'pod/meshed/container/istio-proxy' });
      assert.equal(got.container, 'istio-proxy');
      assert.equal(got.containerId, want.containerId);
    });

    it('should name the pod\'s containers when /container/C is not one of them', async () => {
      const e = await failure(() => k.call('resolve', { sel: admin(), path: 'pod/meshed/container/web' }));
      assert.equal(e.code, 'KUBE_CONTAINER_NOT_FOUND');
      assert.equal(e.line, 'podlink: pod/meshed in namespace default has no container web; its containers: istio-proxy, app (pick one of them with /container/NAME)');
    });
  });

  describe('errors, one line each', () => {
    it('should say which target is not found, and where', async () => {
      for (const kind of ['pod', 'deployment', 'statefulset', 'replicaset', 'job', 'cronjob', 'service']) {
        const e = await failure(() => k.call('resolve', { sel: admin(), path: `${kind}/no-such-thing` }));
        assert.equal(e.code, 'KUBE_NOT_FOUND');
        assert.equal(e.line, `podlink: ${kind}/no-such-thing not found in namespace default (list what can be targeted with \`podlink ls -n default\`)`);
      }
    });

    it('should say a workload scaled to zero has no pods', async () => {
      const e = await failure(() => k.call('resolve', { sel: { ...admin(), namespace: NS }, path: 'deployment/scaled-to-zero' }));
      assert.equal(e.code, 'KUBE_NO_READY_POD');
      assert.match(e.line, new RegExp(`^podlink: deployment/scaled-to-zero in namespace ${NS} has no ready pod: no pods \\(`));
    });

    it('should count the pods and their phases when none is ready', async () => {
      const e = await failure(() => k.call('resolve', { sel: { ...admin(), namespace: NS }, path: 'deployment/never-ready' }));
      assert.equal(e.code, 'KUBE_NO_READY_POD');
      assert.match(e.message, new RegExp(`^deployment/never-ready in namespace ${NS} has no ready pod: 1 pod: 1 Running but not ready$`));
    });

    it('should say Argo Rollouts is not installed for rollout/NAME', async () => {
      const e = await failure(() => k.call('resolve', { sel: admin(), path: 'rollout/service-a' }));
      assert.equal(e.code, 'KUBE_ROLLOUTS_NOT_INSTALLED');
      assert.match(e.line, /^podlink: Argo Rollouts is not installed in this cluster \(context podlink-testcluster\)/);
    });

    it('should name user, verb, resource and namespace when RBAC forbids it', async () => {
      const e = await failure(() => k.call('resolve', { sel: { kubeconfig: env.kubeconfigs.nobody }, path: 'deployment/service-a' }));
      assert.equal(e.code, 'KUBE_FORBIDDEN');
      assert.equal(e.line, 'podlink: forbidden: user nobody cannot get deployments (API group apps) in namespace default (context podlink-testcluster) (ask your cluster admin for the podlink role in docs/rbac.md)');
      const p = await failure(() => k.call('resolve', { sel: { kubeconfig: env.kubeconfigs.nobody }, path: 'pod/ledger-0' }));
      assert.equal(p.message, 'forbidden: user nobody cannot get pods in namespace default (context podlink-testcluster)');
    });

    it('should let alice resolve in her namespace, and name the namespace she may not read', async () => {
      const got = await k.call('resolve', { sel: { kubeconfig: env.kubeconfigs.alice }, path: 'cronjob/nightly-report' });
      assert.match(got.pod, /^nightly-report-manual-/);
      const e = await failure(() => k.call('resolve', { sel: { kubeconfig: env.kubeconfigs.alice, namespace: 'kube-system' }, path: 'deployment/coredns' }));
      assert.equal(e.message, 'forbidden: user alice cannot get deployments (API group apps) in namespace kube-system (context podlink-testcluster)');
    });

    it('should name the server, the context and the socket error when the API server is unreachable', async () => {
      const file = path.join(scratch, 'closed-port.kubeconfig');
      writeFileSync(file, readFileSync(env.kubeconfigs.admin, 'utf8').replace(/server: https:\/\/[^\n]*/, 'server: https://127.0.0.1:1'));
      const e = await failure(() => k.call('resolve', { sel: { kubeconfig: file }, path: 'deployment/service-a' }));
      assert.equal(e.code, 'KUBE_UNREACHABLE');
      assert.equal(e.line, 'podlink: cannot reach the Kubernetes API server https://127.0.0.1:1 (context podlink-testcluster): connect ECONNREFUSED 127.0.0.1:1 (check that the cluster is up and reachable from here (VPN, network), e.g. `kubectl --context podlink-testcluster get ns`)');
    });

    it('should list the known contexts for an unknown one', async () => {
      const e = await failure(() => k.call('resolve', { sel: { ...admin(), context: 'staging' }, path: 'deployment/service-a' }));
      assert.equal(e.code, 'KUBE_CONTEXT');
      assert.equal(e.line, `podlink: unknown context staging in kubeconfig ${env.kubeconfigs.admin}; known contexts: podlink-testcluster (pick one of them with --context)`);
    });

    it('should name a missing or broken kubeconfig file', async () => {
      const missing = path.join(scratch, 'nope.kubeconfig');
      let e = await failure(() => k.call('loadKube', { sel: { kubeconfig: missing } }));
      assert.equal(e.line, `podlink: kubeconfig ${missing} (--kubeconfig) does not exist (give an existing file with --kubeconfig, or set KUBECONFIG)`);
      e = await failure(() => k.call('loadKube', { sel: {} }));
      assert.equal(e.line, 'podlink: no kubeconfig: /nonexistent/.kube/config does not exist and KUBECONFIG is not set (give one with --kubeconfig, set KUBECONFIG, or create ~/.kube/config)');
      const broken = path.join(scratch, 'broken.kubeconfig');
      writeFileSync(broken, 'apiVersion: v1\nclusters:\n- name: x\n  cluster: {}\n');
      e = await failure(() => k.call('loadKube', { sel: { kubeconfig: broken } }));
      assert.equal(e.code, 'KUBE_CONFIG');
      assert.match(e.line, new RegExp(`^podlink: kubeconfig ${broken} \\(--kubeconfig\\) is not valid: clusters\\[0\\]\\.cluster\\.server is missing`));
    });
  });

  describe('kubeconfig selection', () => {
    it('should merge a KUBECONFIG list as kubectl does: first file wins, missing files skipped', async () => {
      // Second file: another context (bob's), and a current-context that must lose to the first file's.
      const bobs = readFileSync(env.kubeconfigs.bob, 'utf8').replace(/name: podlink-testcluster\n  context/, 'name: as-bob\n  context').replace(/current-context: .*/, 'current-context: as-bob');
      const second = path.join(scratch, 'bob.kubeconfig');
      writeFileSync(second, bobs);
      const list = [path.join(scratch, 'missing'), env.kubeconfigs.alice, second].join(':');
      const first = await k.call('loadKube', { sel: {}, env: { KUBECONFIG: list } });
      assert.equal(first.context, 'podlink-testcluster');
      assert.equal(first.user, 'alice');
      assert.equal(first.source, `KUBECONFIG=${list}`);
      const other = await k.call('loadKube', { sel: { context: 'as-bob' }, env: { KUBECONFIG: list } });
      assert.equal(other.user, 'bob');
    });

    it('should take the namespace from -n, else the context, else default', async () => {
      const withNs = path.join(scratch, 'ns.kubeconfig');
      writeFileSync(withNs, readFileSync(env.kubeconfigs.admin, 'utf8').replace('namespace: default', `namespace: ${NS}`));
      assert.equal((await k.call('loadKube', { sel: { kubeconfig: withNs } })).namespace, NS);
      assert.equal((await k.call('loadKube', { sel: { kubeconfig: withNs, namespace: 'kube-system' } })).namespace, 'kube-system');
      const noNs = path.join(scratch, 'nons.kubeconfig');
      writeFileSync(noNs, readFileSync(env.kubeconfigs.admin, 'utf8').replace(', namespace: default', ''));
      assert.equal((await k.call('loadKube', { sel: { kubeconfig: noNs } })).namespace, 'default');
      // The namespace from the context is where targets are looked up.
      const e = await failure(() => k.call('resolve', { sel: { kubeconfig: withNs }, path: 'deployment/service-a' }));
      assert.equal(e.message, `deployment/service-a not found in namespace ${NS}`);
    });
  });

  describe('auth plugins', () => {
    it('should authenticate through an exec credential plugin', async () => {
      // A service account's token, handed out by a plugin as `kubectl` would run it.
      await kubectl(env, ['-n', NS, 'create', 'serviceaccount', 'dev']);
      await kubectl(env, ['-n', NS, 'create', 'rolebinding', 'dev-podlink', '--clusterrole=podlink-developer', `--serviceaccount=${NS}:dev`]);
      const token = (await kubectl(env, ['-n', NS, 'create', 'token', 'dev', '--duration=10m'])).trim();
      const plugin = path.join(scratch, 'credential-plugin.sh');
      writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`);
      chmodSync(plugin, 0o755);
      const admin = readFileSync(env.kubeconfigs.admin, 'utf8');
      const server = /server: (\S+)/.exec(admin)![1];
      const ca = /certificate-authority-data: (\S+)/.exec(admin)![1];
      const file = path.join(scratch, 'exec.kubeconfig');
      writeFileSync(file, [
        'apiVersion: v1', 'kind: Config',
        'clusters:', '- name: c', '  cluster:', `    server: ${server}`, `    certificate-authority-data: ${ca}`,
        'users:', '- name: via-plugin', '  user:', '    exec:', '      apiVersion: client.authentication.k8s.io/v1', `      command: ${plugin}`, '      interactiveMode: Never',
        'contexts:', '- name: plugin', '  context: {cluster: c, user: via-plugin, namespace: ' + NS + '}', 'current-context: plugin', '',
      ].join('\n'));
      const listed = await k.call<{ path: string }[]>('ls', { sel: { kubeconfig: file } });
      assert.ok(listed.some((r) => r.path === 'deployment/never-ready'), JSON.stringify(listed));
      const e = await failure(() => k.call('resolve', { sel: { kubeconfig: file, namespace: 'default' }, path: 'deployment/service-a' }));
      assert.equal(e.message, `forbidden: user system:serviceaccount:${NS}:dev cannot get deployments (API group apps) in namespace default (context plugin)`);
    });
  });

  describe('listTargets (podlink ls)', () => {
    it('should list every kind in the namespace, sidecar pods per container, and no agent', async () => {
      const paths = (await k.call<{ namespace: string; path: string }[]>('ls', { sel: admin() })).map((r) => r.path);
      for (const p of ['deployment/service-a', 'statefulset/ledger', 'replicaset/legacy-worker', 'job/batch-worker', 'job/nightly-report-manual',
        'cronjob/nightly-report', 'service/service-b', 'service/ledger', 'pod/ledger-0', 'pod/meshed/container/istio-proxy', 'pod/meshed/container/app']) {
        assert.ok(paths.includes(p), `${p} in ${paths.join(' ')}`);
      }
      assert.ok(!paths.includes('service/kubernetes'), 'a Service without selector is no target');
      assert.ok(!paths.some((p) => p.startsWith('replicaset/service-a')), 'ReplicaSets of a Deployment are not listed');
      assert.ok(!paths.some((p) => p.includes('podlink-agent')), 'agent pods are not listed');
      assert.ok(!paths.some((p) => p.startsWith('rollout/')));
    });

    it('should list every namespace with -A, and say alice may not', async () => {
      const rows = await k.call<{ namespace: string; path: string }[]>('ls', { sel: { kubeconfig: env.kubeconfigs.bob }, allNamespaces: true });
      assert.ok(rows.some((r) => r.namespace === 'kube-system' && r.path === 'deployment/coredns'));
      assert.ok(rows.some((r) => r.namespace === NS && r.path === 'deployment/never-ready'));
      const e = await failure(() => k.call('ls', { sel: { kubeconfig: env.kubeconfigs.alice }, allNamespaces: true }));
      assert.equal(e.message, 'forbidden: user alice cannot list pods cluster-wide (context podlink-testcluster)');
    });
  });
});
