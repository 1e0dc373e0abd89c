/**
 * The incoming pieces that need no network: the HTTP filter (wire form → predicate), the protocol
 * sniffing of a filtered port, the nftables rules of the redirect, and the config → wire settings
 * (ports, ignore_ports, ignore_localhost, port_mapping, http_filter.ports).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from '../../agent/incoming/dispatcher.js';
import { compileFilter, describeFilter, headerPairs, type RequestView } from '../../agent/incoming/filter.js';
import { PASSTHROUGH_SOURCE, redirectRules, tableRules } from '../../agent/incoming/redirect.js';
import { filterFor, incomingSettings, portStaysLocal, remotePortOf, wireFilter } from '../../intproxy/incoming-settings.js';
import { FilterField, FilterMatch } from '../../protocol/spec.js';

const req = (method: string, target: string, headers: [string, string][] = []): RequestView => ({ method, target, headers });

describe('HTTP filter', () => {
  it('should match a header line `Name: value`, case-insensitively, on any of the headers', () => {
    const f = compileFilter(wireFilter({ header_filter: '^X-Dev-User: alice$' }))!;
    assert.equal(f(req('GET', '/', [['Host', 'x'], ['x-dev-user', 'alice']])), true);
    assert.equal(f(req('GET', '/', [['X-Dev-User', 'alicea']])), false);
    assert.equal(f(req('GET', '/', [])), false);
  });

  it('should match the path with or without its query', () => {
    const f = compileFilter(wireFilter({ path_filter: '^/api/v1/[a-z]+$' }))!;
    assert.equal(f(req('GET', '/api/v1/users?page=2')), true, 'the path without the query');
    const q = compileFilter(wireFilter({ path_filter: 'page=2' }))!;
    assert.equal(q(req('GET', '/api/v1/users?page=2')), true, 'the path with the query');
    assert.equal(q(req('GET', '/api/v1/users')), false);
  });

  it('should combine rules with all_of and any_of, and compare methods exactly', () => {
    const all = compileFilter(wireFilter({ all_of: [{ method: 'POST' }, { path: '^/orders' }] }))!;
    const any = compileFilter(wireFilter({ any_of: [{ header: '^x-a: 1$' }, { path: '^/b' }] }))!;
    assert.equal(all(req('post', '/orders/1')), true);
    assert.equal(all(req('GET', '/orders/1')), false);
    assert.equal(any(req('GET', '/b')), true);
    assert.equal(any(req('GET', '/c', [['X-A', '1']])), true);
    assert.equal(any(req('GET', '/c')), false);
  });

  it('should be no filter at all without one, refuse a bad regex naming it, and describe itself', () => {
    assert.equal(compileFilter(wireFilter({})), undefined);
    assert.throws(() => compileFilter({ match: FilterMatch.all, rules: [{ field: FilterField.header, pattern: '(' }] }), /HTTP filter "\(" is not a valid regex/);
    assert.equal(describeFilter(wireFilter({ header_filter: '^a$' })), 'header ^a$');
    assert.equal(describeFilter(wireFilter({ any_of: [{ path: '^/x' }, { method: 'GET' }] })), 'any of (path ^/x; method GET)');
    assert.deepEqual(headerPairs(['A', '1', 'b', '2']), [['A', '1'], ['b', '2']]);
  });
});

describe('protocol sniffing of a filtered port', () => {
  it('should tell HTTP/2 prior knowledge, HTTP/1 and anything else, waiting while it cannot know', () => {
    assert.equal(classify(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), 'h2');
    assert.equal(classify(Buffer.from('PRI * HTTP')), undefined, 'a preface not complete yet');
    assert.equal(classify(Buffer.from('GET / HTTP/1.1\r\n')), 'h1');
    assert.equal(classify(Buffer.from('POS')), undefined);
    assert.equal(classify(Buffer.from([0x16, 0x03, 0x01])), 'other', 'a TLS ClientHello');
    assert.equal(classify(Buffer.from('\u0000\u0000\u0000')), 'other');
  });
});

describe('redirect rules', () => {
  it('should own its table and redirect each stolen port in prerouting and for the pod\'s own local callers, exempting the agent', () => {
    assert.match(tableRules('podlink_x')[0]!, /^add table inet podlink_x \{ flags owner; \}$/);
    const rules = redirectRules('podlink_x', new Map([[8080, 40001]]));
    assert.deepEqual(rules, [
      'flush chain inet podlink_x prerouting',
      'flush chain inet podlink_x output',
      'flush chain inet podlink_x input',
      'add rule inet podlink_x prerouting tcp dport 8080 fib daddr type local redirect to :40001',
      `add rule inet podlink_x output meta nfproto ipv4 tcp dport 8080 fib daddr type local ip saddr != ${PASSTHROUGH_SOURCE} redirect to :40001`,
      'add rule inet podlink_x input tcp dport 40001 ct status dnat accept',
      'add rule inet podlink_x input tcp dport 40001 drop',
    ]);
    assert.equal(redirectRules('podlink_x', new Map()).length, 3, 'no port: empty chains');
  });
});

describe('incoming settings', () => {
  const s = incomingSettings({
    mode: 'steal',
    http_filter: { header_filter: '^x: 1$', ports: [8080] },
    port_mapping: [[3000, 3030]],
    ports: [3000, 8080, 9000],
    ignore_ports: [9000],
    ignore_localhost: true,
    on_concurrent_steal: 'abort',
  }, { user: 'alice', host: 'laptop-1' });

  it('should say why a port stays local', () => {
    assert.equal(portStaysLocal(s, 4000, false), 'port 4000 is not in incoming.ports');
    assert.equal(portStaysLocal(s, 9000, false), 'port 9000 is in incoming.ignore_ports');
    assert.equal(portStaysLocal(s, 8080, true), 'port 8080 listens on localhost only (incoming.ignore_localhost)');
    assert.equal(portStaysLocal(s, 8080, false), undefined);
  });

  it('should map ports and apply the filter only where http_filter.ports says', () => {
    assert.equal(remotePortOf(s, 3000), 3030);
    assert.equal(remotePortOf(s, 8080), 8080);
    assert.equal(filterFor(s, 8080).match, FilterMatch.all);
    assert.equal(filterFor(s, 3030).match, FilterMatch.none, 'port 3030 is stolen whole');
  });
});
