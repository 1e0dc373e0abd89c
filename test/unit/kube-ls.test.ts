// How `podlink ls` writes pods and orders what it lists (kube/ls.ts), with no cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podPaths, sortTargets } from '../../kube/ls.js';

describe('podlink ls', () => {
  it('should list a pod with several containers once per container', () => {
    assert.deepEqual(podPaths({ metadata: { name: 'web' }, spec: { containers: [{ name: 'app' }] } }), ['pod/web']);
    assert.deepEqual(podPaths({ metadata: { name: 'web' }, spec: { containers: [{ name: 'istio-proxy' }, { name: 'app' }] } }),
      ['pod/web/container/istio-proxy', 'pod/web/container/app']);
  });

  it('should order by namespace, then kind, then name', () => {
    const rows = sortTargets([
      { namespace: 'b', path: 'pod/x' }, { namespace: 'a', path: 'service/s' }, { namespace: 'a', path: 'deployment/z' },
      { namespace: 'a', path: 'deployment/y' }, { namespace: 'a', path: 'pod/p' }, { namespace: 'a', path: 'rollout/r' }, { namespace: 'a', path: 'cronjob/c' },
    ]);
    assert.deepEqual(rows.map((r) => `${r.namespace} ${r.path}`),
      ['a pod/p', 'a deployment/y', 'a deployment/z', 'a cronjob/c', 'a service/s', 'a rollout/r', 'b pod/x']);
  });
});
