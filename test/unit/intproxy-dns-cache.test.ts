/**
 * The intproxy's cache of Resolve answers (intproxy/dns-cache.ts), on a clock the test moves: an
 * answer is reused until its TTL ends, never when its TTL is 0; failures are never kept; lookups of one
 * name in flight at once share one request; names and families are kept apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DnsCache } from '../../intproxy/dns-cache.js';

const answer = (ip: string, ttl: number) => ({ canonical: 'svc.default.svc.cluster.local', addrs: [{ family: 4 as const, ip, port: 0 }], ttl });

describe('intproxy DNS cache', () => {
  it('should reuse an answer until its TTL ends, then ask again', async () => {
    let now = 1000;
    const cache = new DnsCache(() => now);
    let asked = 0;
    const ask = async () => answer(`10.0.0.${++asked}`, 5);
    assert.equal((await cache.resolve('svc', 0, ask)).addrs[0]!.ip, '10.0.0.1');
    now += 4999;
    assert.equal((await cache.resolve('svc', 0, ask)).addrs[0]!.ip, '10.0.0.1');
    now += 1;
    assert.equal((await cache.resolve('svc', 0, ask)).addrs[0]!.ip, '10.0.0.2');
    assert.equal(asked, 2);
  });

  it('should never keep an answer of TTL 0, nor a failure', async () => {
    const cache = new DnsCache(() => 0);
    let asked = 0;
    await cache.resolve('hosts-name', 0, async () => (asked++, answer('10.0.0.9', 0)));
    await cache.resolve('hosts-name', 0, async () => (asked++, answer('10.0.0.9', 0)));
    await assert.rejects(cache.resolve('missing', 0, async () => (asked++, Promise.reject(new Error('ENOENT')))));
    await assert.rejects(cache.resolve('missing', 0, async () => (asked++, Promise.reject(new Error('ENOENT')))));
    assert.equal(asked, 4);
  });

  it('should share one request among lookups in flight, and keep names and families apart', async () => {
    const cache = new DnsCache(() => 0);
    const asked: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ask = (what: string) => async () => (asked.push(what), await gate, answer('10.0.0.1', 30));
    const all = Promise.all([cache.resolve('a', 0, ask('a/0')), cache.resolve('a', 0, ask('a/0 again')), cache.resolve('a', 4, ask('a/4')), cache.resolve('b', 0, ask('b/0'))]);
    release();
    await all;
    assert.deepEqual(asked, ['a/0', 'a/4', 'b/0']);
  });
});
