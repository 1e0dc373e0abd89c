/**
 * Incoming traffic for a program the supervisor serves: a Go HTTP server built with CGO_ENABLED=0
 * (its listen and accept bypass libc, so only the supervisor's notifications can see them), run
 * under `podlink exec -t pid/<pod A>` from the laptop netns. A steal gives a caller in pod B the Go
 * server's answer, and the Go server sees that caller's address (what its accept4 returned); a
 * header-filtered steal takes only matching requests on one keep-alive connection, the rest reach
 * the pod; a mirror leaves the answer to the pod and gives the Go server a copy. Pod A's whole
 * ruleset is as before afterwards. Needs root, nft, iptables and Go.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildGo } from '../helpers/go-build.js';
import { callFrom, endSession, podRules, ruleset, startSession } from '../helpers/incoming.js';
import { requireRoot, requireTool } from '../helpers/requirements.js';
import { createWorld, type World } from '../helpers/world.js';
import { eventually } from '../helpers/world-check.js';

describe('incoming traffic to a Go program (the supervisor path)', () => {
  let world: World;
  let dir: string;
  let goserve: string;
  let rulesBefore: string;

  before(async () => {
    requireRoot('network namespaces and nftables');
    requireTool('nft', ['--version']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-incoming-'));
    goserve = buildGo('goserve', dir, false);
    world = await createWorld();
    await podRules(world);
    rulesBefore = await ruleset(world);
  });
  after(async () => {
    await world?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const url = (p: string) => `http://${world.podA.ip}:${world.podA.httpPort}${p}`;
  const start = (incoming: unknown) => startSession(world, { feature: { network: { incoming } } }, ['http', world.podA.httpPort, 'go'], { program: goserve });
  const podB = (p: string, header?: string) => callFrom(world, world.podB.netns, 'curl', ['-sS', '-m', '10', ...(header ? ['-H', header] : []), url(p)]);

  it('should give a stolen request to the Go server, which sees the real caller', async () => {
    const s = await start('steal');
    try {
      assert.ok(s.events.some((e) => e['event'] === 'running' && e['path'] === 'supervisor'), 'served by the supervisor');
      assert.equal(await podB('/hello'), 'go GET /hello\n');
      const seen = await s.waitFor('app', (v) => v['what'] === 'GET /hello');
      assert.match(String(seen['peer']), new RegExp(`^${world.podB.ip.replace(/\./g, '\\.')}:\\d+$`), 'accept gave pod B, not the intproxy');
    } finally {
      assert.equal(await endSession(s), 130); // Go dies by the SIGINT; podlink exits as its program did
    }
    assert.equal(await podB('/after'), 'pod-a says hi /after\n');
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should give the port back to the pod when the Go server closes its listener (Unlisten)', async () => {
    const s = await start('steal');
    try {
      assert.equal(await podB('/before'), 'go GET /before\n');
      assert.equal(await podB('/close'), 'go GET /close\n');
      await s.waitFor('app', (v) => v['closed'] === true);
      // The supervisor notices the close within about half a second; the session goes on meanwhile.
      let last = '';
      const back = await eventually(async () => {
        last = await podB('/after-close').catch((e: Error) => e.message);
        return last === 'pod-a says hi /after-close\n';
      }, 10_000);
      assert.ok(back, `the pod's app never got its port back; pod B's last answer: ${last}`);
      assert.ok(!s.app.some((v) => v['what'] === 'GET /after-close'), 'the Go server saw no request after its close');
    } finally {
      assert.equal(await endSession(s), 130); // Go dies by the SIGINT; podlink exits as its program did
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should take only the requests with the header, on one keep-alive connection', async () => {
    const s = await start({ mode: 'steal', http_filter: { header_filter: '^X-Dev: go$' } });
    try {
      const r = await callFrom(world, world.podB.netns, 'curl', [
        '-sS', '-m', '10', '-H', 'X-Dev: go', url('/a'), '--next', url('/b'), '--next', '-H', 'X-Dev: go', url('/c'),
      ]);
      assert.equal(r, 'go GET /a\npod-a says hi /b\ngo GET /c\n');
      await s.waitFor('app', (v) => v['what'] === 'GET /c');
      assert.deepEqual(s.app.filter((v) => v['what']).map((v) => v['what']), ['GET /a', 'GET /c']);
    } finally {
      assert.equal(await endSession(s), 130); // Go dies by the SIGINT; podlink exits as its program did
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should mirror: the pod answers, the Go server gets the same request', async () => {
    const s = await start('mirror');
    try {
      assert.equal(await podB('/copy'), 'pod-a says hi /copy\n');
      const seen = await s.waitFor('app', (v) => v['what'] === 'GET /copy');
      assert.match(String(seen['peer']), new RegExp(`^${world.podB.ip.replace(/\./g, '\\.')}:\\d+$`));
    } finally {
      assert.equal(await endSession(s), 130); // Go dies by the SIGINT; podlink exits as its program did
    }
  });
});
