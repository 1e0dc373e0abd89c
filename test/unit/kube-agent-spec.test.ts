// The agent's Kubernetes objects (kube/agent-spec.ts) and what its pod status and events mean
// (kube/agent-status.ts), with no cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { type AgentOptions, agentJob, agentName, ephemeralAgentContainer, recordJob } from '../../kube/agent-spec.js';
import { agentState, eventMeaning } from '../../kube/agent-status.js';
import type { PodTarget } from '../../kube/target.js';

const target: PodTarget = {
  namespace: 'shop', pod: 'api-7d9f', uid: 'u', container: 'app', containerId: 'c'.repeat(64), runtime: 'containerd',
  nodeName: 'node-7', podIP: '10.0.0.7', probePorts: [8080], path: 'deployment/api', describe: 'deployment/api → pod/api-7d9f/container/app',
};

function opts(over: Partial<AgentOptions> = {}): AgentOptions {
  return {
    image: 'registry.example.com/podlink/agent:0.1.0', imagePullPolicy: 'IfNotPresent', imagePullSecrets: ['regcred'],
    labels: { team: 'payments' }, annotations: { 'example.com/owner': 'me' },
    tolerations: [{ operator: 'Exists' }], nodeSelector: { pool: 'dev' },
    resources: { requests: { cpu: '1m', memory: '1Mi' }, limits: { cpu: '1', memory: '100Mi' } },
    privileged: false, ephemeral: false, capabilities: ['SYS_ADMIN', 'SYS_PTRACE'],
    serviceAccount: 'agent-sa', priorityClass: 'high',
    ttlSeconds: 1, activeDeadlineSeconds: 86400, startupTimeoutMs: 60000,
    args: ['--listen', '4242'], env: { PODLINK_AGENT_TOKEN: 't0k' }, port: 4242,
    session: { id: 'abc123', user: 'Jane Doe', host: 'laptop.local', target: 'deployment/api' },
    ...over,
  };
}

describe('agentName', () => {
  it('should be podlink-agent- and five characters of the Kubernetes generateName alphabet', () => {
    assert.equal(agentName(() => Buffer.from([0, 1, 2, 26, 27])), 'podlink-agent-bcd9b');
    for (let i = 0; i < 50; i++) assert.match(agentName(), /^podlink-agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe('agentJob, targeted', () => {
  const job = agentJob('podlink-agent-x', 'shop', target, opts());
  const spec = job.spec!.template.spec!;
  const c = spec.containers[0]!;

  it('should be a one-shot Job that cleans itself up', () => {
    assert.equal(job.metadata!.name, 'podlink-agent-x');
    assert.equal(job.metadata!.namespace, 'shop');
    assert.equal(job.spec!.backoffLimit, 0);
    assert.equal(job.spec!.ttlSecondsAfterFinished, 1);
    assert.equal(job.spec!.activeDeadlineSeconds, 86400);
    assert.equal(spec.restartPolicy, 'Never');
  });

  it('should run on the target\'s node with hostPID, and nothing it does not need', () => {
    assert.equal(spec.nodeName, 'node-7');
    assert.equal(spec.hostPID, true);
    assert.equal(spec.nodeSelector, undefined, 'the node is fixed; a selector could only contradict it');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.enableServiceLinks, false);
    assert.equal(spec.terminationGracePeriodSeconds, 1);
    assert.deepEqual(c.securityContext, { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'SYS_PTRACE'] } });
  });

  it('should carry image, args, env, port, resources and the pod-level options', () => {
    assert.equal(c.name, 'podlink-agent');
    assert.equal(c.image, 'registry.example.com/podlink/agent:0.1.0');
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.args, ['--listen', '4242']);
    assert.equal(c.command, undefined, 'the image\'s entrypoint runs the agent');
    assert.deepEqual(c.env, [{ name: 'PODLINK_AGENT_TOKEN', value: 't0k' }]);
    assert.deepEqual(c.ports, [{ name: 'link', containerPort: 4242, protocol: 'TCP' }]);
    assert.deepEqual(c.resources, { requests: { cpu: '1m', memory: '1Mi' }, limits: { cpu: '1', memory: '100Mi' } });
    assert.equal(c.terminationMessagePolicy, 'FallbackToLogsOnError');
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }]);
    assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }]);
    assert.equal(spec.serviceAccountName, 'agent-sa');
    assert.equal(spec.priorityClassName, 'high');
  });

  it('should label and annotate the Job and its pod: podlink\'s keys win over the user\'s', () => {
    const withClash = agentJob('podlink-agent-x', 'shop', target, opts({ labels: { 'podlink.dev/session': 'mine', team: 'payments' } }));
    for (const meta of [withClash.metadata!, withClash.spec!.template.metadata!]) {
      assert.deepEqual(meta.labels, {
        team: 'payments', 'app.kubernetes.io/name': 'podlink-agent', 'app.kubernetes.io/managed-by': 'podlink',
        'podlink.dev/agent': 'podlink-agent-x', 'podlink.dev/session': 'abc123',
      });
      assert.deepEqual(meta.annotations, {
        'example.com/owner': 'me', 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled',
        'podlink.dev/user': 'Jane Doe', 'podlink.dev/host': 'laptop.local', 'podlink.dev/target': 'deployment/api',
      });
    }
  });

  it('should make a session id into a valid label value', () => {
    const j = agentJob('podlink-agent-x', 'shop', target, opts({ session: { id: '--Jane Doe@laptop!', user: 'u', host: 'h' } }));
    assert.equal(j.metadata!.labels!['podlink.dev/session'], 'Jane-Doe-laptop');
  });

  it('should be privileged instead of capabilities when asked', () => {
    const p = agentJob('a', 'shop', target, opts({ privileged: true })).spec!.template.spec!.containers[0]!;
    assert.deepEqual(p.securityContext, { privileged: true, runAsUser: 0 });
  });
});

describe('agentJob, targetless', () => {
  const spec = agentJob('podlink-agent-y', 'dev', undefined, opts({ session: { id: 's', user: 'u', host: 'h' } })).spec!.template.spec!;

  it('should be a plain pod placed by the scheduler, with the node selector and no privileges', () => {
    assert.equal(spec.nodeName, undefined);
    assert.equal(spec.hostPID, undefined);
    assert.deepEqual(spec.nodeSelector, { pool: 'dev' });
    assert.deepEqual(spec.containers[0]!.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });
});

describe('ephemeralAgentContainer', () => {
  it('should share the target container\'s namespaces, and take no ports or resources', () => {
    const c = ephemeralAgentContainer('podlink-agent-z', target, opts());
    assert.equal(c.name, 'podlink-agent-z');
    assert.equal(c.targetContainerName, 'app');
    assert.deepEqual(c.args, ['--listen', '4242']);
    assert.deepEqual(c.securityContext, { runAsUser: 0, capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'SYS_PTRACE'] } });
    assert.equal(c.ports, undefined);
    assert.equal(c.resources, undefined);
  });
});

describe('recordJob (an ephemeral agent\'s session record)', () => {
  const j = recordJob('podlink-agent-e', target, opts({ ephemeral: true, namespace: 'elsewhere' }));

  it('should be a Job that never makes a pod, in the target\'s namespace, owned by the target pod', () => {
    assert.equal(j.metadata!.name, 'podlink-agent-e');
    assert.equal(j.metadata!.namespace, 'shop', 'beside its agent, in the target pod: not agent.namespace');
    assert.deepEqual(j.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Pod', name: 'api-7d9f', uid: 'u' }]);
    assert.equal(j.spec!.suspend, true);
    assert.equal(j.spec!.activeDeadlineSeconds, 1, 'resumed by someone, it would end at once');
    const c = j.spec!.template.spec!.containers;
    assert.deepEqual(c.map((x) => [x.name, x.command, x.securityContext?.runAsNonRoot, x.securityContext?.capabilities]), [['record', ['true'], true, { drop: ['ALL'] }]]);
    assert.equal(j.spec!.template.spec!.hostPID, undefined);
    assert.equal(j.spec!.template.metadata!.annotations, undefined, 'the facts are on the Job only');
  });

  it('should carry the agent\'s labels and the session\'s annotations, and name its container', () => {
    assert.equal(j.metadata!.labels!['app.kubernetes.io/name'], 'podlink-agent');
    assert.equal(j.metadata!.labels!['podlink.dev/agent'], 'podlink-agent-e');
    const a = j.metadata!.annotations!;
    assert.equal(a['podlink.dev/user'], 'Jane Doe');
    assert.equal(a['podlink.dev/target'], 'deployment/api');
    assert.equal(a['podlink.dev/ephemeral-container'], 'podlink-agent-e');
    assert.equal(a['podlink.dev/pod'], 'api-7d9f', 'the target pod, whatever the facts say');
  });
});

describe('agentState', () => {
  const w = { namespace: 'shop', pod: 'podlink-agent-x-1', container: 'podlink-agent', image: 'reg/agent:1' };
  const withStatus = (state: object, phase = 'Pending', extra: Partial<V1Pod['status']> = {}): V1Pod => ({
    metadata: { name: w.pod }, spec: { nodeName: 'n', containers: [{ name: 'podlink-agent' }] },
    status: { phase, containerStatuses: [{ name: 'podlink-agent', image: 'x', imageID: '', ready: false, restartCount: 0, state }], ...extra },
  });

  it('should see a running container', () => {
    assert.deepEqual(agentState(withStatus({ running: {} }, 'Running'), w, false), { state: 'running' });
  });

  it('should fail at once on image pull errors, naming the image and how to provide it', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']) {
      const s = agentState(withStatus({ waiting: { reason, message: 'not\nfound' } }), w, false);
      assert.equal(s.state, 'failed');
      if (s.state !== 'failed') continue;
      assert.equal(s.error.code, 'KUBE_AGENT_IMAGE');
      assert.equal(s.error.message, `cannot pull the agent image reg/agent:1 for pod shop/podlink-agent-x-1: ${reason}: not found`);
      assert.match(s.error.hint!, /set agent\.image/);
    }
  });

  it('should fail at once when the container cannot be created, or exited', () => {
    const a = agentState(withStatus({ waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' } }), w, false);
    assert.equal(a.state === 'failed' && a.error.message, 'the agent container of pod shop/podlink-agent-x-1 (image reg/agent:1) cannot start: CreateContainerConfigError: secret "x" not found');
    const b = agentState(withStatus({ terminated: { exitCode: 2, reason: 'Error', message: 'podlink-agent: bad flag\n' } }, 'Failed'), w, false);
    assert.equal(b.state === 'failed' && b.error.message, 'the agent container of pod shop/podlink-agent-x-1 (image reg/agent:1) exited before it was ready (Error, exit code 2): podlink-agent: bad flag');
  });

  it('should fail when the kubelet rejects the pod or it cannot be scheduled', () => {
    const a = agentState({ metadata: { name: w.pod }, spec: { containers: [] }, status: { phase: 'Failed', reason: 'OutOfcpu', message: 'Node didn\'t have enough resource: cpu' } }, w, false);
    assert.equal(a.state === 'failed' && a.error.message, 'the agent pod shop/podlink-agent-x-1 failed: OutOfcpu: Node didn\'t have enough resource: cpu');
    const b = agentState({ metadata: { name: w.pod }, spec: { containers: [] }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] } }, w, false);
    assert.equal(b.state === 'failed' && b.error.message, 'the agent pod shop/podlink-agent-x-1 cannot be scheduled: 0/3 nodes are available');
  });

  it('should say what a starting pod waits for', () => {
    assert.deepEqual(agentState(withStatus({ waiting: { reason: 'ContainerCreating' } }), w, false), { state: 'starting', text: 'Pending (ContainerCreating)' });
    assert.deepEqual(agentState({ metadata: { name: w.pod }, spec: { containers: [] }, status: { phase: 'Pending' } }, w, false), { state: 'starting', text: 'Pending, not scheduled yet' });
  });

  it('should read an ephemeral container\'s status from ephemeralContainerStatuses', () => {
    const p: V1Pod = { metadata: { name: 'api' }, spec: { nodeName: 'n', containers: [] }, status: { phase: 'Running',
      ephemeralContainerStatuses: [{ name: 'podlink-agent', image: 'x', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] } };
    assert.deepEqual(agentState(p, w, true), { state: 'running' });
    assert.equal(agentState(p, w, false).state, 'starting');
  });
});

describe('eventMeaning', () => {
  const w = { namespace: 'shop', pod: 'podlink-agent-x-1', container: 'podlink-agent', image: 'reg/agent:1', job: 'podlink-agent-x' };
  const ev = (kind: string, reason: string, message = ''): CoreV1Event => ({ metadata: {}, involvedObject: { kind, name: 'x' }, reason, message });

  it('should turn the Job\'s FailedCreate into the failure, with a Pod Security hint when that is why', () => {
    const m = eventMeaning(ev('Job', 'FailedCreate', 'Error creating: pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)'), w);
    assert.equal(m.error?.code, 'KUBE_AGENT_FAILED');
    assert.equal(m.error?.message, 'Kubernetes cannot create the agent pod of job shop/podlink-agent-x: Error creating: pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)');
    assert.match(m.error!.hint!, /agent\.namespace/);
    assert.match(eventMeaning(ev('Job', 'FailedCreate', 'exceeded quota'), w).error!.hint!, /kubectl -n shop describe job podlink-agent-x/);
  });

  it('should fail on FailedScheduling and report pulls as progress', () => {
    assert.equal(eventMeaning(ev('Pod', 'FailedScheduling', '0/1 nodes'), w).error?.message, 'the agent pod shop/podlink-agent-x-1 cannot be scheduled: 0/1 nodes');
    assert.deepEqual(eventMeaning(ev('Pod', 'Pulling'), w), { progress: 'pulling image reg/agent:1' });
    assert.deepEqual(eventMeaning(ev('Pod', 'Started'), w), {});
  });
});
