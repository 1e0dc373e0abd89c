// How kube/errors.ts turns what @kubernetes/client-node throws into one line: table-driven over
// ApiException-shaped objects (code + the API's Status body as text), node-fetch FetchErrors and
// ws ErrorEvents, plus the port-forward's error-channel texts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { apiError, statusOf } from '../../kube/errors.js';
import { forwardError } from '../../kube/portforward.js';

const at = { server: 'https://10.0.0.1:6443', context: 'dev', user: 'jane' };
const status = (code: number, message: string, reason = '') => ({ code, body: JSON.stringify({ kind: 'Status', status: 'Failure', message, reason, code }), headers: {} });

describe('apiError', () => {
  const cases: [string, unknown, Parameters<typeof apiError>[2], string | undefined, string, string][] = [
    ['RBAC 403 (namespaced)', status(403, 'deployments.apps "api" is forbidden: User "jane@example.com" cannot get resource "deployments" in API group "apps" in the namespace "shop"', 'Forbidden'),
      { verb: 'get', resource: 'deployments', namespace: 'shop', name: 'api', group: 'apps' }, undefined, 'KUBE_FORBIDDEN',
      'podlink: forbidden: user jane@example.com cannot get deployments (API group apps) in namespace shop (context dev) (ask your cluster admin for the podlink role in docs/rbac.md)'],
    ['RBAC 403 (cluster-wide)', status(403, 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" at the cluster scope'),
      { verb: 'list', resource: 'pods' }, undefined, 'KUBE_FORBIDDEN',
      'podlink: forbidden: user jane cannot list pods cluster-wide (context dev) (ask your cluster admin for the podlink role in docs/rbac.md)'],
    ['403 with no body (a watch)', { code: 403, body: undefined }, { verb: 'watch', resource: 'events', namespace: 'shop' }, undefined, 'KUBE_FORBIDDEN',
      'podlink: forbidden: user jane cannot watch events in namespace shop (context dev) (ask your cluster admin for the podlink role in docs/rbac.md)'],
    ['403 from admission, not RBAC', status(403, 'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged'),
      { verb: 'patch', resource: 'pods/ephemeralcontainers', namespace: 'shop', name: 'x' }, undefined, 'KUBE_FORBIDDEN',
      'podlink: patch pods/ephemeralcontainers x in namespace shop was refused: pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged (a policy of the cluster refused it; ask your cluster admin)'],
    ['401', { code: 401, body: undefined, headers: {} }, { verb: 'get', resource: 'pods', namespace: 'shop' }, undefined, 'KUBE_UNAUTHORIZED',
      'podlink: the API server https://10.0.0.1:6443 rejected the credentials of user jane (context dev): Unauthorized (log in again or refresh the credentials in your kubeconfig)'],
    ['404 the caller expected', status(404, 'deployments.apps "api" not found', 'NotFound'), { verb: 'get', resource: 'deployments', namespace: 'shop' },
      'deployment/api not found in namespace shop', 'KUBE_NOT_FOUND', 'podlink: deployment/api not found in namespace shop'],
    ['404 nobody expected', status(404, 'the server could not find the requested resource'), { verb: 'get', resource: 'rollouts', namespace: 'shop', name: 'r' }, undefined,
      'KUBE_API', 'podlink: get rollouts r in namespace shop failed: the server could not find the requested resource (context dev, server https://10.0.0.1:6443)'],
    ['500', status(500, 'etcdserver: request timed out'), { verb: 'create', resource: 'jobs', namespace: 'shop' }, undefined,
      'KUBE_API', 'podlink: create jobs in namespace shop failed: etcdserver: request timed out (context dev, server https://10.0.0.1:6443)'],
    ['connection refused (node-fetch)', Object.assign(new Error('request to https://10.0.0.1:6443/api/v1/namespaces/shop/pods failed, reason: connect ECONNREFUSED 10.0.0.1:6443'), { type: 'system', code: 'ECONNREFUSED', errno: 'ECONNREFUSED' }),
      { verb: 'list', resource: 'pods', namespace: 'shop' }, undefined, 'KUBE_UNREACHABLE',
      'podlink: cannot reach the Kubernetes API server https://10.0.0.1:6443 (context dev): connect ECONNREFUSED 10.0.0.1:6443 (check that the cluster is up and reachable from here (VPN, network), e.g. `kubectl --context dev get ns`)'],
    ['TLS failure', Object.assign(new Error('request to https://10.0.0.1:6443/api failed, reason: self-signed certificate in certificate chain'), { type: 'system', code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      { verb: 'get', resource: 'pods' }, undefined, 'KUBE_UNREACHABLE',
      'podlink: cannot reach the Kubernetes API server https://10.0.0.1:6443 (context dev): self-signed certificate in certificate chain (check that the cluster is up and reachable from here (VPN, network), e.g. `kubectl --context dev get ns`)'],
    ['no route, wrapped in a cause', Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('connect EHOSTUNREACH 10.0.0.1:6443'), { code: 'EHOSTUNREACH' }) }),
      { verb: 'get', resource: 'pods' }, undefined, 'KUBE_UNREACHABLE',
      'podlink: cannot reach the Kubernetes API server https://10.0.0.1:6443 (context dev): connect EHOSTUNREACH 10.0.0.1:6443 (check that the cluster is up and reachable from here (VPN, network), e.g. `kubectl --context dev get ns`)'],
    ['no answer before the deadline', Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }),
      { verb: 'get', resource: 'deployments', namespace: 'shop' }, undefined, 'KUBE_UNREACHABLE',
      'podlink: cannot reach the Kubernetes API server https://10.0.0.1:6443 (context dev): no answer within 30 s to get deployments (check that the cluster is up and reachable from here (VPN, network), e.g. `kubectl --context dev get ns`)'],
  ];
  for (const [name, err, site, notFound, code, line] of cases) {
    it(`should map ${name}`, () => {
      const e = apiError(err, at, site, notFound);
      assert.equal(e.code, code);
      assert.equal(errorLine(e), line);
    });
  }
});

describe('statusOf', () => {
  it('should read the Status from text or an object, and keep a plain text body', () => {
    assert.deepEqual(statusOf('{"message":"m","reason":"NotFound","code":404}'), { message: 'm', reason: 'NotFound', code: 404 });
    assert.deepEqual(statusOf({ message: 'm' }), { message: 'm' });
    assert.deepEqual(statusOf('404 page not found\n'), { message: '404 page not found' });
    assert.equal(statusOf(undefined), undefined);
  });
});

describe('forwardError', () => {
  it('should tell "nothing listens yet" from other port-forward failures', () => {
    const refused = forwardError('error forwarding port 7777 to pod abc, uid : failed to execute portforward in network namespace "/var/run/netns/cni-1": failed to connect to localhost:7777 inside namespace "abc", IPv4: dial tcp4 127.0.0.1:7777: connect: connection refused IPv6 dial tcp6: address localhost: no suitable address found ', 'shop', 'podlink-agent-x-1', 7777);
    assert.equal(refused.code, 'KUBE_PORTFORWARD_REFUSED');
    assert.match(refused.message, /^nothing listens on port 7777 in pod shop\/podlink-agent-x-1 \(yet\): error forwarding port 7777/);
    const other = forwardError('error forwarding port 7777 to pod abc, uid : container not running', 'shop', 'p', 7777);
    assert.equal(other.code, 'KUBE_PORTFORWARD');
    assert.equal(other.message, 'port-forward to shop/p:7777 failed: error forwarding port 7777 to pod abc, uid : container not running');
  });
});
