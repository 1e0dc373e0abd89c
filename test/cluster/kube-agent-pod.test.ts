// The agent's pod on the real test cluster: startAgent/deleteAgent and the port-forward to it, with
// busybox standing in for the agent (`nc -ll -p PORT -e cat`: an echo server on the agent's port).
// Every case checks what kubectl sees, and that nothing of the agent is left afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlJson, podOf } from './cluster.js';
import { type KubeTestEnv, LaptopKube, failure, kubeTestEnv } from './kube-laptop.js';

const NS = `podlink-kube-agent-${process.pid}`;
/** A namespace whose Pod Security level forbids what a targeted agent needs (hostPID). */
const NS_BASELINE = `podlink-kube-psa-${process.pid}`;
/** A pod of our own in default, to add ephemeral agents to (they stay in it until it goes). */
const EPHEMERAL_TARGET = `podlink-kube-ephemeral-${process.pid}`;
const PORT = 7777;
const SESSION = `kube-agent-test-${process.pid}`;

function agentOptions(over: Record<string, unknown> = {}) {
  return {
    image: 'localhost/busybox:local',
    imagePullPolicy: 'Never',
    imagePullSecrets: [],
    labels: { 'example.com/team': 'kube-tests' },
    annotations: { 'example.com/note': 'from the kube-agent-pod test' },
    tolerations: [{ operator: 'Exists' }],
    nodeSelector: {},
    resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { cpu: '1', memory: '100Mi' } },
    privileged: false,
    ephemeral: false,
    capabilities: ['SYS_ADMIN', 'SYS_PTRACE'],
    ttlSeconds: 5,
    activeDeadlineSeconds: 600,
    startupTimeoutMs: 60_000,
    // busybox has no entrypoint: the args are the whole command.
    args: ['nc', '-ll', '-p', String(PORT), '-e', 'cat'],
    env: { PODLINK_AGENT_TOKEN: 'test-token' },
    port: PORT,
    session: { id: SESSION, user: 'tester', host: 'laptop-1', target: 'deployment/service-a' },
    ...over,
  };
}

describe('the agent pod on the test cluster', () => {
  let env: KubeTestEnv;
  let k: LaptopKube;
  const admin = () => ({ kubeconfig: env.kubeconfigs.admin });

  /** Jobs and pods of this test's agents, in every namespace. */
  async function leftovers(): Promise<string[]> {
    const list = await kubectlJson(env, ['get', 'jobs,pods', '-A', '-l', `podlink.dev/session=${SESSION}`]);
    return list.items.map((i: any) => `${i.kind}/${i.metadata.namespace}/${i.metadata.name}${i.metadata.deletionTimestamp ? ' (terminating)' : ''}`);
  }
  const nothingLeft = (ms = 20_000) => eventually(async () => {
    const left = await leftovers();
    if (left.length) throw new Error(`still there: ${left.join(', ')}`);
  }, ms, 250);
  /**
   * For agents bound to a node that does not exist: their Job must go, but their pod can only be
   * marked for deletion (no kubelet confirms it; the pod GC removes it after 40 s). The test
   * removes it by force so that the cluster stays clean.
   */
  async function onlyOrphanLeft(): Promise<void> {
    await eventually(async () => {
      const left = await leftovers();
      const bad = left.filter((l) => !(l.startsWith('Pod/') && l.endsWith('(terminating)')));
      if (bad.length) throw new Error(`still there: ${bad.join(', ')}`);
    }, 20_000, 250);
    await kubectl(env, ['delete', 'pods', '-A', '-l', `podlink.dev/session=${SESSION}`, '--force', '--grace-period=0']).catch(() => undefined);
    await nothingLeft();
  }

  before(async () => {
    env = kubeTestEnv();
    k = new LaptopKube(env);
    await kubectl(env, ['create', 'namespace', NS]);
    await kubectl(env, ['create', 'namespace', NS_BASELINE]);
    await kubectl(env, ['label', 'namespace', NS_BASELINE, 'pod-security.kubernetes.io/enforce=baseline']);
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: EPHEMERAL_TARGET, namespace: 'default', labels: { app: EPHEMERAL_TARGET } },
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'localhost/busybox:local', imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
    }));
  });
  after(async () => {
    k?.close();
    await kubectl(env, ['delete', 'jobs', '-A', '-l', `podlink.dev/session=${SESSION}`, '--wait=false']).catch(() => undefined);
    await kubectl(env, ['delete', 'pod', EPHEMERAL_TARGET, '-n', 'default', '--wait=false']).catch(() => undefined);
    await kubectl(env, ['delete', 'namespace', NS, NS_BASELINE, '--wait=false']).catch(() => undefined);
  });

  describe('targeted (a Job on the target\'s node)', () => {
    let started: any;

    it('should create a Job with the agent\'s spec and wait until its container runs', async (t) => {
      started = await k.call('startAgent', { sel: admin(), targetPath: 'deployment/service-a', opts: agentOptions() });
      t.diagnostic(`agent running after ${Math.round(started.ms)} ms: ${started.progress.join(' | ')}`);
      const { ref, target } = started;
      assert.equal(ref.namespace, 'default');
      assert.equal(ref.ephemeral, false);
      assert.equal(ref.container, 'podlink-agent');
      assert.match(ref.job, /^podlink-agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.ok(ref.pod.startsWith(`${ref.job}-`));
      assert.equal(ref.nodeName, target.nodeName);
      assert.deepEqual(started.created.map((c: any) => c.job), [ref.job], 'onCreated once, with the Job');
      assert.ok(started.progress.some((p: string) => p.startsWith(`agent job ${ref.job} created`)), started.progress.join('\n'));

      const job = await kubectlJson(env, ['-n', 'default', 'get', 'job', ref.job]);
      assert.equal(job.spec.backoffLimit, 0);
      assert.equal(job.spec.ttlSecondsAfterFinished, 5);
      assert.equal(job.spec.activeDeadlineSeconds, 600);
      const spec = job.spec.template.spec;
      assert.equal(spec.nodeName, target.nodeName);
      assert.equal(spec.hostPID, true);
      assert.equal(spec.restartPolicy, 'Never');
      assert.equal(spec.automountServiceAccountToken, false);
      assert.equal(spec.enableServiceLinks, false);
      assert.equal(spec.terminationGracePeriodSeconds, 1);
      const c = spec.containers[0];
      assert.equal(c.image, 'localhost/busybox:local');
      assert.deepEqual(c.securityContext, { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'SYS_PTRACE'] } });
      assert.deepEqual(c.ports, [{ name: 'link', containerPort: PORT, protocol: 'TCP' }]);
      assert.deepEqual(c.env, [{ name: 'PODLINK_AGENT_TOKEN', value: 'test-token' }]);
      const meta = job.spec.template.metadata;
      assert.equal(meta.labels['app.kubernetes.io/name'], 'podlink-agent');
      assert.equal(meta.labels['podlink.dev/session'], SESSION);
      assert.equal(meta.labels['example.com/team'], 'kube-tests');
      assert.equal(meta.annotations['sidecar.istio.io/inject'], 'false');
      assert.equal(meta.annotations['linkerd.io/inject'], 'disabled');
      assert.equal(meta.annotations['podlink.dev/user'], 'tester');
      assert.equal(meta.annotations['podlink.dev/host'], 'laptop-1');
      assert.equal(meta.annotations['podlink.dev/target'], 'deployment/service-a');
      assert.equal(meta.annotations['example.com/note'], 'from the kube-agent-pod test');

      const pod = await kubectlJson(env, ['-n', 'default', 'get', 'pod', ref.pod]);
      assert.ok(pod.status.containerStatuses[0].state.running, JSON.stringify(pod.status.containerStatuses));
      assert.equal(pod.spec.nodeName, (await kubectlJson(env, ['-n', 'default', 'get', 'pod', (await podOf(env, 'service-a')).name])).spec.nodeName);
    });

    it('should carry bytes both ways through a port-forward to the agent', async (t) => {
      const { ref } = started;
      const small = await k.call('forwardEcho', { sel: admin(), namespace: ref.namespace, pod: ref.pod, port: PORT, text: 'ping from the laptop\n' });
      assert.equal(small.text, 'ping from the laptop\n');
      assert.equal(small.closedWith, null, 'close() resolves closed with undefined');
      const big = await k.call('forwardEcho', { sel: admin(), namespace: ref.namespace, pod: ref.pod, port: PORT, bytes: 4 << 20 });
      assert.equal(big.same, true);
      t.diagnostic(`port-forward opened in ${Math.round(small.openMs)} ms; 4 MiB echoed in ${Math.round(big.ms)} ms`);
    });

    it('should report a port nothing listens on as KUBE_PORTFORWARD_REFUSED, within a second', async () => {
      const { ref } = started;
      const r = await k.call('forwardRefused', { sel: admin(), namespace: ref.namespace, pod: ref.pod, port: PORT + 1 });
      assert.equal(r.code, 'KUBE_PORTFORWARD_REFUSED', r.line);
      assert.match(r.line, new RegExp(`^podlink: nothing listens on port ${PORT + 1} in pod default/${ref.pod} \\(yet\\): .*connection refused`));
      assert.ok(r.ms < 1000, `${r.ms} ms`);
      assert.equal(r.ended, true, 'input ends');
    });

    it('should leave no Job and no pod within seconds of deleteAgent, and delete idempotently', async () => {
      const { ref } = started;
      await k.call('deleteAgent', { sel: admin(), ref });
      await nothingLeft(15_000);
      await k.call('deleteAgent', { sel: admin(), ref });
    });
  });

  describe('failures: one line, fast, nothing left', () => {
    it('should name the image it cannot pull (ErrImageNeverPull) without waiting for the timeout', async () => {
      const t0 = Date.now();
      const e = await failure(() => k.call('startAgent', { sel: admin(), targetPath: 'deployment/service-a', opts: agentOptions({ image: 'localhost/no-such-agent:0.0.0' }) }));
      assert.equal(e.code, 'KUBE_AGENT_IMAGE');
      assert.match(e.line, /^podlink: cannot pull the agent image localhost\/no-such-agent:0\.0\.0 for pod default\/podlink-agent-\w+-\w+: ErrImageNeverPull: .*\(build the agent image, push it to a registry the cluster can pull from and set agent\.image to it/);
      assert.ok(Date.now() - t0 < 20_000, `${Date.now() - t0} ms`);
      assert.equal(e.created?.length, 1);
      await nothingLeft();
    });

    it('should name the image when the registry cannot be reached (ErrImagePull)', async () => {
      const e = await failure(() => k.call('startAgent', { sel: admin(), targetPath: 'deployment/service-a', opts: agentOptions({ image: 'registry.invalid/podlink/agent:0.0.0', imagePullPolicy: 'IfNotPresent' }) }));
      assert.equal(e.code, 'KUBE_AGENT_IMAGE');
      assert.match(e.message, /^cannot pull the agent image registry\.invalid\/podlink\/agent:0\.0\.0 for pod default\/podlink-agent-\w+-\w+: (ErrImagePull|ImagePullBackOff)/);
      await nothingLeft();
    });

    it('should report an agent that exits before it runs, with its last output', async () => {
      const e = await failure(() => k.call('startAgent', { sel: admin(), targetPath: 'deployment/service-a', opts: agentOptions({ args: ['sh', '-c', 'echo agent cannot start >&2; exit 3'] }) }));
      assert.equal(e.code, 'KUBE_AGENT_FAILED');
      assert.match(e.message, /^the agent container of pod default\/podlink-agent-\w+-\w+ \(image localhost\/busybox:local\) exited before it was ready \(Error, exit code 3\): agent cannot start$/);
      await nothingLeft();
    });

    it('should give the pod\'s last state when startup_timeout passes', async () => {
      const target = await k.call('resolve', { sel: admin(), path: 'deployment/service-a' });
      // Bound to a node that does not exist: no kubelet will ever run it, and nothing says why.
      const e = await failure(() => k.call('startAgent', { sel: admin(), target: { ...target, nodeName: 'no-such-node' }, opts: agentOptions({ startupTimeoutMs: 1500 }) }));
      assert.equal(e.code, 'KUBE_AGENT_TIMEOUT');
      assert.match(e.line, /^podlink: the agent \(pod default\/podlink-agent-\w+-\w+, image localhost\/busybox:local\) was not running after 1\.5 s: Pending, container not created yet \(raise agent\.startup_timeout/);
      await onlyOrphanLeft();
    });

    it('should stop and clean up when aborted', async () => {
      const target = await k.call('resolve', { sel: admin(), path: 'deployment/service-a' });
      const e = await failure(() => k.call('startAgent', { sel: admin(), target: { ...target, nodeName: 'no-such-node' }, abortAfterMs: 300, opts: agentOptions() }));
      assert.equal(e.code, 'KUBE_ABORTED');
      await onlyOrphanLeft();
    });

    it('should quote Pod Security when the namespace forbids the agent (FailedCreate on the Job)', async () => {
      const e = await failure(() => k.call('startAgent', { sel: admin(), targetPath: 'deployment/service-a', opts: agentOptions({ namespace: NS_BASELINE }) }));
      assert.equal(e.code, 'KUBE_AGENT_FAILED');
      assert.match(e.message, new RegExp(`^Kubernetes cannot create the agent pod of job ${NS_BASELINE}/podlink-agent-\\w+: .*violates PodSecurity "baseline:latest": .*host namespaces \\(hostPID=true\\)`));
      assert.match(e.hint ?? '', /Pod Security level forbids the agent/);
      await nothingLeft();
    });

    it('should name the verb, resource and namespace when RBAC forbids the Job', async () => {
      const target = await k.call('resolve', { sel: admin(), path: 'deployment/service-a' });
      const e = await failure(() => k.call('startAgent', { sel: { kubeconfig: env.kubeconfigs.nobody }, target, opts: agentOptions() }));
      assert.equal(e.code, 'KUBE_FORBIDDEN');
      assert.equal(e.line, 'podlink: forbidden: user nobody cannot create jobs (API group batch) in namespace default (context podlink-testcluster) (ask your cluster admin for the podlink role in docs/rbac.md)');
      await nothingLeft();
    });
  });

  describe('targetless', () => {
    it('should run a plain pod where the scheduler puts it: no hostPID, no capabilities, node selector honoured', async () => {
      const r = await k.call('startAgent', { sel: admin(), opts: agentOptions({ namespace: NS, nodeSelector: { 'kubernetes.io/hostname': env.node }, session: { id: SESSION, user: 'tester', host: 'laptop-1' } }) });
      assert.equal(r.ref.namespace, NS);
      assert.equal(r.ref.nodeName, env.node);
      const job = await kubectlJson(env, ['-n', NS, 'get', 'job', r.ref.job]);
      const spec = job.spec.template.spec;
      assert.equal(spec.hostPID, undefined);
      assert.equal(spec.nodeName, undefined);
      assert.deepEqual(spec.nodeSelector, { 'kubernetes.io/hostname': env.node });
      assert.deepEqual(spec.containers[0].securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      assert.equal(job.spec.template.metadata.annotations['podlink.dev/target'], undefined);
      const echo = await k.call('forwardEcho', { sel: admin(), namespace: NS, pod: r.ref.pod, port: PORT, text: 'targetless\n' });
      assert.equal(echo.text, 'targetless\n');
      await k.call('deleteAgent', { sel: admin(), ref: r.ref });
      await nothingLeft();
    });

    it('should fail at once when no node matches its node selector', async () => {
      const t0 = Date.now();
      const e = await failure(() => k.call('startAgent', { sel: admin(), opts: agentOptions({ namespace: NS, nodeSelector: { 'example.com/pool': 'none' } }) }));
      assert.equal(e.code, 'KUBE_AGENT_FAILED');
      assert.match(e.line, new RegExp(`^podlink: the agent pod ${NS}/podlink-agent-\\w+-\\w+ cannot be scheduled: .*node\\(s\\) didn't match Pod's node affinity/selector.* \\(check agent\\.node_selector`));
      assert.ok(Date.now() - t0 < 20_000);
      await nothingLeft();
    });
  });

  describe('ephemeral', () => {
    it('should add the agent to the target pod as an ephemeral container sharing the target container\'s namespaces', async () => {
      await eventually(async () => {
        const p = await kubectlJson(env, ['-n', 'default', 'get', 'pod', EPHEMERAL_TARGET]);
        if (p.status.phase !== 'Running') throw new Error('target not running yet');
      });
      const r = await k.call('startAgent', { sel: admin(), targetPath: `pod/${EPHEMERAL_TARGET}`, opts: agentOptions({ ephemeral: true }) });
      assert.equal(r.ref.ephemeral, true);
      assert.equal(r.ref.pod, EPHEMERAL_TARGET);
      assert.match(r.ref.container, /^podlink-agent-\w{5}$/);
      // Its session record: a Job of the container's name that runs nothing, owned by the target pod.
      assert.equal(r.ref.job, r.ref.container);
      const record = await kubectlJson(env, ['-n', 'default', 'get', 'job', r.ref.job]);
      assert.equal(record.spec.suspend, true);
      assert.equal(record.metadata.annotations['podlink.dev/ephemeral-container'], r.ref.container);
      assert.equal(record.metadata.annotations['podlink.dev/pod'], EPHEMERAL_TARGET);
      assert.deepEqual(record.metadata.ownerReferences.map((o: any) => `${o.kind}/${o.name}`), [`Pod/${EPHEMERAL_TARGET}`]);
      assert.deepEqual(await leftovers(), [`Job/default/${r.ref.job}`], 'no pod of its own');
      const pod = await kubectlJson(env, ['-n', 'default', 'get', 'pod', EPHEMERAL_TARGET]);
      const ec = pod.spec.ephemeralContainers.find((c: any) => c.name === r.ref.container);
      assert.equal(ec.targetContainerName, 'app');
      assert.deepEqual(ec.securityContext, { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'SYS_PTRACE'] } });
      assert.equal(pod.status.containerStatuses[0].restartCount, 0, 'the target container is untouched');
      // It listens in the target pod's network namespace: the port-forward goes to the target pod.
      const echo = await k.call('forwardEcho', { sel: admin(), namespace: 'default', pod: EPHEMERAL_TARGET, port: PORT, text: 'ephemeral\n' });
      assert.equal(echo.text, 'ephemeral\n');
      // Kubernetes keeps ephemeral containers: deleteAgent deletes the record only.
      await k.call('deleteAgent', { sel: admin(), ref: r.ref });
      await nothingLeft();
    });

    it('should refuse ephemeral placement without a target', async () => {
      const e = await failure(() => k.call('startAgent', { sel: admin(), opts: agentOptions({ ephemeral: true }) }));
      assert.equal(e.line, 'podlink: agent.ephemeral needs a target: a targetless session has no pod to add the agent to (remove agent.ephemeral, or give a target)');
    });
  });

  describe('as alice (the Role of docs/rbac.md)', () => {
    it('should start, reach and delete an agent Job, and add an ephemeral agent', async () => {
      const sel = { kubeconfig: env.kubeconfigs.alice };
      const r = await k.call('startAgent', { sel, targetPath: 'deployment/service-b', opts: agentOptions() });
      const echo = await k.call('forwardEcho', { sel, namespace: 'default', pod: r.ref.pod, port: PORT, text: 'alice\n' });
      assert.equal(echo.text, 'alice\n');
      await k.call('deleteAgent', { sel, ref: r.ref });
      await nothingLeft();
      const eph = await k.call('startAgent', { sel, targetPath: `pod/${EPHEMERAL_TARGET}`, opts: agentOptions({ ephemeral: true, args: ['nc', '-ll', '-p', String(PORT + 2), '-e', 'cat'], port: PORT + 2 }) });
      assert.equal(eph.ref.ephemeral, true);
      assert.deepEqual(await leftovers(), [`Job/default/${eph.ref.job}`], 'its record');
      await k.call('deleteAgent', { sel, ref: eph.ref });
      await nothingLeft();
    });
  });
});
