/** The agent resolves like glibc in the target: hosts first, then search list and ndots. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidates, parseHosts, parseResolvConf } from '../../agent/dns.js';

const kube = parseResolvConf(`# written by the kubelet
nameserver 10.96.0.10
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5 timeout:2 attempts:3
`);

describe('agent DNS rules', () => {
  it('reads nameservers, search list and options from resolv.conf', () => {
    assert.deepEqual(kube, {
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeoutMs: 2000,
      attempts: 3,
    });
  });

  it('falls back to 127.0.0.1 and ndots 1 like glibc when resolv.conf is empty', () => {
    const c = parseResolvConf('');
    assert.deepEqual([c.nameservers, c.ndots, c.search], [['127.0.0.1'], 1, []]);
  });

  it('tries the search list first for a short name under ndots:5', () => {
    assert.deepEqual(candidates('service-b', kube), [
      'service-b.default.svc.cluster.local',
      'service-b.svc.cluster.local',
      'service-b.cluster.local',
      'service-b',
    ]);
  });

  it('tries a name with enough dots as it is first', () => {
    const c = parseResolvConf('nameserver 10.0.0.1\nsearch corp.example\noptions ndots:1\n');
    assert.deepEqual(candidates('db.internal', c), ['db.internal', 'db.internal.corp.example']);
  });

  it('never searches a fully qualified name', () => {
    assert.deepEqual(candidates('service-b.default.svc.cluster.local.', kube), ['service-b.default.svc.cluster.local']);
  });

  it('parses hosts files case-insensitively with the first name as canonical', () => {
    const hosts = parseHosts('127.0.0.1 localhost\n10.1.2.3 Legacy-B legacy-b.local # old\n10.1.2.4 legacy-b\nnot-an-ip foo\n');
    assert.deepEqual(hosts.get('legacy-b'), { canonical: 'Legacy-B', addrs: ['10.1.2.3', '10.1.2.4'] });
    assert.deepEqual(hosts.get('legacy-b.local'), { canonical: 'Legacy-B', addrs: ['10.1.2.3'] });
    assert.equal(hosts.get('foo'), undefined);
  });
});
