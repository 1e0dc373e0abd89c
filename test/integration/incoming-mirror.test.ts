/**
 * Issue 14, mirror (the default mode) on a `pid/` target: the pod keeps answering exactly as before and
 * the local app gets a copy of each connection's incoming bytes (a large body too), from the real
 * client. The capture changes nothing in the pod (its ruleset is untouched during the session, not
 * only after), and a local app that stops reading never slows the pod: a large upload still gets the
 * pod's whole answer while the local app is frozen. Needs root (CAP_NET_RAW for the capture).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/requirements.js';
import { createWorld, type World } from '../helpers/world.js';
import { callFrom, endSession, podRules, ruleset, signalGroup, startSession } from '../helpers/incoming.js';

describe('incoming traffic: mirror (pid target)', () => {
  let world: World;
  let rulesBefore: string;

  before(async () => {
    requireRoot('network namespaces and packet capture');
    world = await createWorld();
    await podRules(world);
    rulesBefore = await ruleset(world);
  });
  after(() => world?.destroy());

  const url = (p: string) => `http://${world.podA.ip}:${world.podA.httpPort}${p}`;

  it('should leave the answer to the pod and give the local app the same request, from the real caller', async () => {
    // No incoming key at all: mirror is the default.
    const s = await startSession(world, {}, ['http', world.podA.httpPort, 'local']);
    try {
      assert.equal(s.events.find((e) => e['event'] === 'incoming')!['mode'], 'mirror');
      assert.equal(await ruleset(world), rulesBefore, 'mirroring installs nothing in the pod');
      const answer = await callFrom(world, world.podB.netns, 'curl', ['-sS', '-m', '10', '-d', 'copy me', url('/mirrored')]);
      assert.equal(answer, 'pod-a says hi /mirrored\nbody:copy me\n', 'the pod answered');
      const seen = await s.waitFor('app', (v) => v['what'] === 'POST /mirrored copy me');
      assert.match(String(seen['peer']), new RegExp(`${world.podB.ip.replace(/\./g, '\\.')}:\\d+$`));
      // Over one keep-alive connection, every request is copied in order.
      await callFrom(world, world.podB.netns, 'curl', ['-sS', '-m', '10', url('/one'), '--next', url('/two')]);
      await s.waitFor('app', (v) => v['what'] === 'GET /two');
      assert.deepEqual(s.app.filter((v) => v['what']).map((v) => v['what']), ['POST /mirrored copy me', 'GET /one', 'GET /two']);
      // A body of many segments (the capture's records span the agent's pipe reads): copied whole, in order.
      const big = Array.from({ length: 40_000 }, (_, i) => `${i},`).join('');
      const r = await world.runIn(world.podB.netns, 'curl', ['-sS', '-m', '20', '-o', '/dev/null', '--data-binary', '@-', url('/many')], { input: big });
      assert.equal(r.code, 0, r.stderr);
      const copy = await s.waitFor('app', (v) => String(v['what']).startsWith('POST /many'));
      assert.equal(copy['what'], `POST /many ${big}`);
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should never slow the pod: a frozen local app gets no copy, the pod its whole upload', async () => {
    const s = await startSession(world, { feature: { network: { incoming: 'mirror' } } }, ['http', world.podA.httpPort, 'local']);
    try {
      signalGroup(s, 'SIGSTOP'); // the local app (and podlink's CLI) stop reading anything
      const body = 'x'.repeat(8 * 1024 * 1024);
      const r = await world.runIn(world.podB.netns, 'curl', ['-sS', '-m', '60', '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{size_download}', '--data-binary', '@-', url('/big')], {
        input: body,
        timeoutMs: 90_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const [code, up, down] = r.stdout.split(' ').map(Number);
      assert.equal(code, 200);
      assert.equal(up, body.length, 'the whole upload reached the pod');
      assert.equal(down, 'pod-a says hi /big\nbody:'.length + body.length + 1, 'and the pod answered all of it');
    } finally {
      signalGroup(s, 'SIGCONT');
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });
});
