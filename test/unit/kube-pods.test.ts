// Which pod and container a target means, with no cluster: kube/pods.ts, the cronjob's latest Job
// and the path parsing of kube/target.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { KNOWN_SIDECARS, httpProbePorts, pickContainer, pickPod, podStates, selectorString, splitContainerId } from '../../kube/pods.js';
import { parsePath, podTarget } from '../../kube/target.js';
import { latestJobOf } from '../../kube/targets/cronjob.js';

function pod(name: string, o: { phase?: string; ready?: boolean; created?: string; terminating?: boolean; containers?: string[]; waiting?: string } = {}): V1Pod {
  const containers = o.containers ?? ['app'];
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: (o.created ?? '2026-01-01T00:00:00Z') as unknown as Date,
      ...(o.terminating ? { deletionTimestamp: '2026-01-02T00:00:00Z' as unknown as Date } : {}) },
    spec: { nodeName: 'node-1', containers: containers.map((c) => ({ name: c })) },
    status: {
      phase: o.phase ?? 'Running',
      podIP: '10.0.0.9',
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }],
      containerStatuses: containers.map((c, i) => ({
        name: c, image: 'x', imageID: 'x', ready: true, restartCount: 0, containerID: `containerd://${String(i).repeat(64)}`,
        state: o.waiting ? { waiting: { reason: o.waiting } } : { running: {} },
      })),
    },
  };
}

describe('pickPod', () => {
  it('should take the oldest ready pod, then the first by name', () => {
    const pods = [pod('c', { created: '2026-01-03T00:00:00Z' }), pod('b', { created: '2026-01-02T00:00:00Z' }), pod('a', { created: '2026-01-02T00:00:00Z' })];
    assert.equal(pickPod(pods)?.metadata?.name, 'a');
  });

  it('should skip pods that are not Running, not Ready or terminating', () => {
    const pods = [pod('pending', { phase: 'Pending', created: '2025-01-01T00:00:00Z' }), pod('unready', { ready: false, created: '2025-01-01T00:00:00Z' }),
      pod('leaving', { terminating: true, created: '2025-01-01T00:00:00Z' }), pod('good')];
    assert.equal(pickPod(pods)?.metadata?.name, 'good');
    assert.equal(pickPod(pods.slice(0, 3)), undefined);
  });
});

describe('httpProbePorts', () => {
  it('should list the ports of the chosen container\'s plain-HTTP probes, named ports looked up', () => {
    const p = pod('p', { containers: ['app', 'side'] });
    p.spec!.containers[0] = {
      name: 'app',
      ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9901 }],
      readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
      livenessProbe: { httpGet: { path: '/live', port: 9901, scheme: 'HTTP' } },
      startupProbe: { httpGet: { path: '/ready', port: '8080' } },
    };
    p.spec!.containers[1] = { name: 'side', readinessProbe: { httpGet: { path: '/', port: 7000 } } };
    assert.deepEqual(httpProbePorts(p, 'app'), [8080, 9901]);
    assert.deepEqual(httpProbePorts(p, 'side'), [7000]);
    assert.deepEqual(podTarget(p, 'app', 'pod/p').probePorts, [8080, 9901]);
  });

  it('should leave out HTTPS probes, probes to another host, unknown names and other kinds', () => {
    const p = pod('p');
    p.spec!.containers[0] = {
      name: 'app',
      readinessProbe: { httpGet: { path: '/', port: 8443, scheme: 'HTTPS' } },
      livenessProbe: { httpGet: { path: '/', port: 8080, host: '10.0.0.1' } },
      startupProbe: { httpGet: { path: '/', port: 'nope' } },
    };
    assert.deepEqual(httpProbePorts(p, 'app'), []);
    p.spec!.containers[0] = { name: 'app', readinessProbe: { tcpSocket: { port: 8080 } }, livenessProbe: { exec: { command: ['true'] } } };
    assert.deepEqual(httpProbePorts(p, 'app'), []);
  });
});

describe('podStates', () => {
  it('should count pods by what they are doing', () => {
    assert.equal(podStates([]), 'no pods');
    assert.equal(podStates([pod('a', { phase: 'Pending', waiting: 'ContainerCreating' }), pod('b', { ready: false }), pod('c', { ready: false }), pod('d', { terminating: true })]),
      '4 pods: 1 Pending (ContainerCreating), 2 Running but not ready, 1 Terminating');
    assert.equal(podStates([pod('a', { phase: 'Succeeded' })]), '1 pod: 1 Succeeded');
  });
});

describe('pickContainer', () => {
  it('should take the first container that is not a known sidecar', () => {
    assert.equal(pickContainer(pod('p', { containers: ['istio-proxy', 'linkerd-proxy', 'app', 'worker'] }), undefined, 'pod/p'), 'app');
    assert.equal(pickContainer(pod('p', { containers: ['web', 'istio-proxy'] }), undefined, 'pod/p'), 'web');
  });

  it('should fall back to the first container when every one is a known sidecar', () => {
    assert.equal(pickContainer(pod('p', { containers: ['envoy', 'istio-proxy'] }), undefined, 'pod/p'), 'envoy');
  });

  it('should honour a named container, sidecar or not', () => {
    assert.equal(pickContainer(pod('p', { containers: ['istio-proxy', 'app'] }), 'istio-proxy', 'pod/p'), 'istio-proxy');
  });

  it('should list the containers when the named one does not exist', () => {
    assert.throws(() => pickContainer(pod('p', { containers: ['istio-proxy', 'app'] }), 'web', 'pod/p in namespace ns'),
      { code: 'KUBE_CONTAINER_NOT_FOUND', message: 'pod/p in namespace ns has no container web; its containers: istio-proxy, app' });
  });

  it('should keep the sidecar list in one place, with the common meshes', () => {
    for (const s of ['istio-proxy', 'istio-init', 'linkerd-proxy', 'linkerd-init', 'vault-agent', 'envoy']) assert.ok(KNOWN_SIDECARS.includes(s), s);
  });
});

describe('container IDs and selectors', () => {
  it('should split the runtime prefix off a container ID', () => {
    assert.deepEqual(splitContainerId('containerd://abc'), { runtime: 'containerd', id: 'abc' });
    assert.deepEqual(splitContainerId('cri-o://def'), { runtime: 'cri-o', id: 'def' });
    assert.deepEqual(splitContainerId('docker://0a'), { runtime: 'docker', id: '0a' });
  });

  it('should write a label selector as the API takes it', () => {
    assert.equal(selectorString({ matchLabels: { app: 'a', tier: 'web' } }), 'app=a,tier=web');
    assert.equal(selectorString({ matchLabels: { app: 'a' }, matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'staging'] }, { key: 'x', operator: 'NotIn', values: ['y'] },
      { key: 'canary', operator: 'Exists' }, { key: 'legacy', operator: 'DoesNotExist' }] }),
    'app=a,env in (prod,staging),x notin (y),canary,!legacy');
    assert.equal(selectorString(undefined), '');
  });
});

describe('cronjob: latest Job', () => {
  const job = (name: string, created: string, owner = 'cj-uid', kind = 'CronJob'): V1Job => ({
    metadata: { name, creationTimestamp: created as unknown as Date, ownerReferences: [{ apiVersion: 'batch/v1', kind, name: 'cj', uid: owner }] },
  });

  it('should take the newest Job the CronJob owns', () => {
    const jobs = [job('cj-1', '2026-01-01T00:00:00Z'), job('cj-3', '2026-01-03T00:00:00Z'), job('other', '2026-01-09T00:00:00Z', 'x'), job('cj-2', '2026-01-02T00:00:00Z')];
    assert.equal(latestJobOf(jobs, 'cj-uid')?.metadata?.name, 'cj-3');
    assert.equal(latestJobOf(jobs, 'nobody'), undefined);
  });
});

describe('target paths', () => {
  it('should read kind/name[/container/c], and a bare name as a pod', () => {
    assert.deepEqual(parsePath('deployment/api'), { kind: 'deployment', name: 'api' });
    assert.deepEqual(parsePath('pod/api-0/container/app'), { kind: 'pod', name: 'api-0', container: 'app' });
    assert.deepEqual(parsePath('api-0'), { kind: 'pod', name: 'api-0' });
    assert.deepEqual(parsePath('replicaset/rs'), { kind: 'replicaset', name: 'rs' });
  });

  it('should refuse what is not a Kubernetes target', () => {
    assert.throws(() => parsePath('pid/42'), /`pid\/42` is not a Kubernetes target/);
    assert.throws(() => parsePath('pod/a/b'), /is not a Kubernetes target/);
    assert.throws(() => parsePath('pod/Api'), /the pod name must be lowercase/);
  });

  it('should describe the chain from the workload to the container', () => {
    const p = pod('api-7d9f', { containers: ['istio-proxy', 'app'] });
    const t = podTarget(p, undefined, 'deployment/api');
    assert.equal(t.describe, 'deployment/api → pod/api-7d9f/container/app');
    assert.equal(t.containerId, '1'.repeat(64));
    assert.equal(t.runtime, 'containerd');
    assert.equal(podTarget(p, 'istio-proxy', 'pod/api-7d9f').describe, 'pod/api-7d9f/container/istio-proxy');
    assert.equal(podTarget(p, undefined, 'cronjob/nightly', 'job/nightly-1').describe, 'cronjob/nightly → job/nightly-1 → pod/api-7d9f/container/app');
  });

  it('should refuse a container that is not running', () => {
    assert.throws(() => podTarget(pod('p', { waiting: 'CrashLoopBackOff' }), undefined, 'pod/p'),
      { code: 'KUBE_NO_READY_POD', message: 'container app of pod/p in namespace ns is not running (CrashLoopBackOff)' });
  });
});
