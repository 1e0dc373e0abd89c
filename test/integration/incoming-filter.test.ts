/**
 * Issue 14, filtered steal on a `pid/` target: only requests that match the HTTP filter reach the
 * local app, everything else reaches the pod's own app, per request. Callers run in pod B:
 *   - HTTP/1.1, one keep-alive connection, matched and unmatched requests alternating: by header and,
 *     separately, by path;
 *   - HTTP/2 with prior knowledge, streams of one connection going either way, and the same after an
 *     HTTP/1.1 `Upgrade: h2c` (curl), the upgrade request included;
 *   - gRPC (@grpc/grpc-js on both ends) unary and server-streaming calls, by a metadata header;
 *   - a WebSocket upgrade (the `ws` library on both ends), wholly to the side that took the upgrade.
 * The templated filter `{{ get_env(name="DEV_USER") }}` is rendered from podlink's environment.
 * Pod A's ruleset is as before after each session. Needs root, nft, iptables.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot, requireTool } from '../helpers/requirements.js';
import { createWorld, type World } from '../helpers/world.js';
import { callFrom, endSession, fixtures, podRules, podServer, ruleset, startSession } from '../helpers/incoming.js';

describe('incoming traffic: filtered steal (pid target)', () => {
  let world: World;
  let rulesBefore: string;
  const podServers: ChildProcess[] = [];

  before(async () => {
    requireRoot('network namespaces and nftables');
    requireTool('nft', ['--version']);
    world = await createWorld();
    await podRules(world);
    rulesBefore = await ruleset(world);
  });
  after(async () => {
    for (const c of podServers) c.kill('SIGKILL');
    await world?.destroy();
  });

  const filtered = (http_filter: unknown) => ({ feature: { network: { incoming: { mode: 'steal', http_filter } } } });
  const url = (p: string, port = world.podA.httpPort) => `http://${world.podA.ip}:${port}${p}`;

  /** curl over one connection: each [path, header?] in turn; returns the bodies and how many reused it. */
  async function keepAlive(requests: [string, string?][]): Promise<{ bodies: string[]; reused: number }> {
    const args = ['-sS', '-m', '20', '-v'];
    requests.forEach(([p, h], i) => args.push(...(i ? ['--next'] : []), ...(h ? ['-H', h] : []), url(p)));
    const r = await world.runIn(world.podB.netns, 'curl', args, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    return { bodies: r.stdout.trim().split('\n'), reused: (r.stderr.match(/Re-using existing connection/g) ?? []).length };
  }

  it('should take only the requests with the header, per request on one keep-alive connection', async () => {
    const s = await startSession(world, filtered({ header_filter: '^X-Dev-User: alice$' }), ['http', world.podA.httpPort, 'local']);
    try {
      const alice = 'X-Dev-User: alice';
      const r = await keepAlive([['/a', alice], ['/b'], ['/c', alice], ['/d', 'X-Dev-User: bob']]);
      assert.deepEqual(r.bodies, ['local GET /a', 'pod-a says hi /b', 'local GET /c', 'pod-a says hi /d']);
      assert.equal(r.reused, 3, 'one connection for all four');
      const e = s.events.find((v) => v['event'] === 'incoming')!;
      assert.equal(e['filter'], 'header ^X-Dev-User: alice$');
      assert.deepEqual(s.app.filter((v) => v['what']).map((v) => v['what']), ['GET /a', 'GET /c']);
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should take only the requests whose path matches, the rest to the pod, on one connection', async () => {
    const s = await startSession(world, filtered({ path_filter: '^/api/' }), ['http', world.podA.httpPort, 'local']);
    try {
      const r = await keepAlive([['/api/x?q=1'], ['/other'], ['/api/y'], ['/apix']]);
      assert.deepEqual(r.bodies, ['local GET /api/x?q=1', 'pod-a says hi /other', 'local GET /api/y', 'pod-a says hi /apix']);
      assert.equal(r.reused, 3);
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should render a templated filter from the environment', async () => {
    const prev = process.env['DEV_USER'];
    process.env['DEV_USER'] = 'carol';
    try {
      const s = await startSession(world, filtered({ header_filter: '^X-Dev-User: {{ get_env(name="DEV_USER", default="nobody") }}$' }), ['http', world.podA.httpPort, 'local']);
      try {
        assert.equal(s.events.find((v) => v['event'] === 'incoming')!['filter'], 'header ^X-Dev-User: carol$');
        const r = await keepAlive([['/t', 'X-Dev-User: carol'], ['/u', 'X-Dev-User: nobody']]);
        assert.deepEqual(r.bodies, ['local GET /t', 'pod-a says hi /u']);
      } finally {
        await endSession(s);
      }
    } finally {
      if (prev === undefined) delete process.env['DEV_USER'];
      else process.env['DEV_USER'] = prev;
    }
  });

  it('should route HTTP/2 streams of one connection per stream, with prior knowledge and after an h2c upgrade', async () => {
    const port = 8082;
    podServers.push(await podServer(world, 'h2', port, 'pod-h2'));
    const s = await startSession(world, filtered({ header_filter: '^x-dev-user: alice$' }), ['h2', port, 'local-h2']);
    try {
      const out = await callFrom(world, world.podB.netns, process.execPath, [path.join(fixtures, 'client.mjs'), 'h2', url('', port), '/mine1,/other,/mine2', 'alice']);
      assert.deepEqual(JSON.parse(out).answers, ['local-h2 /mine1', 'pod-h2 /other', 'local-h2 /mine2']);
      // HTTP/1.1 `Upgrade: h2c` (curl --http2): the upgrade request and every stream after it, per stream.
      const alice = ['-H', 'x-dev-user: alice'];
      const r = await world.runIn(world.podB.netns, 'curl', ['-sS', '-v', '-m', '20', '--http2', `${url('/up', port)}`, '--next', '--http2', ...alice, url('/mine3', port), '--next', '--http2', url('/other2', port)]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['pod-h2 /up', 'local-h2 /mine3', 'pod-h2 /other2']);
      assert.match(r.stderr, /101 Switching Protocols/);
      assert.equal((r.stderr.match(/Re-using existing connection/g) ?? []).length, 2);
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should route gRPC unary and server-streaming calls by a metadata header', async () => {
    const port = 50051;
    podServers.push(await podServer(world, 'grpc', port, 'pod-grpc'));
    const s = await startSession(world, filtered({ header_filter: '^x-dev-user: alice$' }), ['grpc', port, 'local-grpc']);
    try {
      const target = `${world.podA.ip}:${port}`;
      const mine = JSON.parse(await callFrom(world, world.podB.netns, process.execPath, [path.join(fixtures, 'client.mjs'), 'grpc', target, 'hi', 'alice']));
      assert.deepEqual(mine, { unary: 'local-grpc: hi', stream: ['local-grpc: hi 1', 'local-grpc: hi 2', 'local-grpc: hi 3'] });
      const theirs = JSON.parse(await callFrom(world, world.podB.netns, process.execPath, [path.join(fixtures, 'client.mjs'), 'grpc', target, 'yo']));
      assert.deepEqual(theirs, { unary: 'pod-grpc: yo', stream: ['pod-grpc: yo 1', 'pod-grpc: yo 2', 'pod-grpc: yo 3'] });
      const seen = s.app.filter((v) => v['what']).map((v) => v['what']);
      assert.deepEqual(seen, ['echo hi', 'count hi']);
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should give a WebSocket wholly to the side that took its upgrade request', async () => {
    const port = 8090;
    podServers.push(await podServer(world, 'ws', port, 'pod-ws'));
    const s = await startSession(world, filtered({ header_filter: '^x-dev-user: alice$' }), ['ws', port, 'local-ws']);
    try {
      const call = async (user?: string) =>
        JSON.parse(await callFrom(world, world.podB.netns, process.execPath, [path.join(fixtures, 'client.mjs'), 'ws', `ws://${world.podA.ip}:${port}/chat`, 'ping', ...(user ? [user] : [])])).answer;
      assert.equal(await call('alice'), 'local-ws: ping');
      assert.equal(await call(), 'pod-ws: ping');
      const up = s.app.find((v) => v['what'] === 'upgrade /chat')!;
      assert.match(String(up['peer']), new RegExp(world.podB.ip.replace(/\./g, '\\.')), 'the local app sees pod B as its peer');
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });
});
