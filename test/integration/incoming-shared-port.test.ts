/**
 * Issue 15, several developers filtering one pod (`pid/` target): alice and bob run their own
 * sessions from two laptops (two netns) against pod A, each with a header filter, each with an HTTP/1
 * app on 8080 and an HTTP/2 app on 8082. Callers in pod B:
 *   - alice's and bob's requests reach their own apps, a third user's and header-less requests reach
 *     the pod — mixed on one keep-alive connection, and as streams of one HTTP/2 connection;
 *   - a mirroring session beside them gets its own copy of the port's traffic;
 *   - an unfiltered steal, and a steal with alice's very filter, started meanwhile are refused in one
 *     line naming the port and the sessions, and change nothing (the ruleset, the routing);
 *     with on_concurrent_steal "continue" the port stays local and that session goes on;
 *   - alice leaves with Ctrl-C: her requests reach the pod, bob keeps his (the port was handed over);
 *   - bob's CLI is SIGKILLed: everything is as before — pod A's full ruleset, no podlink process, no
 *     abstract socket of podlink's in the pod's namespace.
 * Needs root, nft and iptables.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot, requireTool } from '../helpers/requirements.js';
import { createWorld, type World } from '../helpers/world.js';
import {
  callFrom, endSession, fixtures, gone, inNetns, podlinkSockets, podRules, podServer, ruleset, signalGroup, startSession, type Session,
} from '../helpers/incoming.js';

const H2 = 8082;
/** The app port of the other sessions on alice's and bob's laptops (theirs is taken there): the pod's 8080. */
const APP = 18080;
const mapped = [[APP, 8080]];

describe('several developers, one pod: filtered steals sharing a port (pid target)', () => {
  let world: World;
  let rulesBefore: string;
  let alice: Session;
  let bob: Session;
  const podServers: ChildProcess[] = [];
  const sessions: Session[] = [];

  const filtered = (user: string) => ({ feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: `^X-Dev-User: ${user}$` } } } } });
  /** The session's app command, and beside it an HTTP/2 app on H2 named NAME-h2. */
  const withH2 = (name: string) => (cmd: string) => `${cmd} & ${cmd.replace(` http ${8080} ${name}`, ` h2 ${H2} ${name}-h2`)} & wait`;

  async function start(user: string, laptop: string): Promise<Session> {
    const s = await startSession(world, filtered(user), ['http', world.podA.httpPort, user], { laptop, shell: withH2(user) });
    sessions.push(s);
    await s.waitFor('events', (v) => v['event'] === 'incoming' && v['port'] === H2);
    return s;
  }

  /** curl over one connection from pod B: each [path, user?] in turn; the bodies, and how many reused it. */
  async function keepAlive(requests: [string, string?][]): Promise<{ bodies: string[]; reused: number }> {
    const args = ['-sS', '-m', '20', '-v'];
    requests.forEach(([p, u], i) => args.push(...(i ? ['--next'] : []), ...(u ? ['-H', `X-Dev-User: ${u}`] : []), `http://${world.podA.ip}:${world.podA.httpPort}${p}`));
    const r = await world.runIn(world.podB.netns, 'curl', args, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    return { bodies: r.stdout.trim().split('\n'), reused: (r.stderr.match(/Re-using existing connection/g) ?? []).length };
  }

  const h2 = async (paths: string): Promise<string[]> =>
    JSON.parse(await callFrom(world, world.podB.netns, process.execPath, [path.join(fixtures, 'client.mjs'), 'h2', `http://${world.podA.ip}:${H2}`, paths])).answers;

  /** Retries `check` until it holds (a hand-over takes a moment); fails with its last answer after 20 s. */
  async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    const until = Date.now() + 20_000;
    for (;;) {
      const v = await get();
      if (ok(v) || Date.now() > until) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const seen = (s: Session): string[] => s.app.filter((v) => v['what']).map((v) => `${String(v['name'])} ${String(v['what'])}`);

  before(async () => {
    requireRoot('network namespaces and nftables');
    requireTool('nft', ['--version']);
    world = await createWorld();
    await podRules(world);
    podServers.push(await podServer(world, 'h2', H2, 'pod-h2'));
    rulesBefore = await ruleset(world);
  });
  after(async () => {
    for (const s of sessions) signalGroup(s, 'SIGKILL');
    for (const c of podServers) c.kill('SIGKILL');
    await world?.destroy();
  });

  it('should give alice and bob their own requests and the pod the others\', per request and per HTTP/2 stream', async () => {
    alice = await start('alice', world.laptop);
    bob = await start('bob', world.laptop2);
    const r = await keepAlive([['/1', 'alice'], ['/2', 'bob'], ['/3', 'carol'], ['/4'], ['/5', 'alice'], ['/6', 'bob']]);
    assert.deepEqual(r.bodies, ['alice GET /1', 'bob GET /2', 'pod-a says hi /3', 'pod-a says hi /4', 'alice GET /5', 'bob GET /6']);
    assert.equal(r.reused, 5, 'one connection for all six');
    assert.deepEqual(await h2('/a@alice,/b@bob,/c@carol,/d,/e@bob'), ['alice-h2 /a', 'bob-h2 /b', 'pod-h2 /c', 'pod-h2 /d', 'bob-h2 /e']);
    assert.deepEqual(seen(alice), ['alice GET /1', 'alice GET /5', 'alice-h2 GET /a'], 'alice got hers only');
    assert.deepEqual(seen(bob), ['bob GET /2', 'bob GET /6', 'bob-h2 GET /b', 'bob-h2 GET /e'], 'bob got his only');
  });

  it('should give a mirroring session beside them its own copy of the port\'s traffic', async () => {
    const dave = await startSession(world, { feature: { network: { incoming: { mode: 'mirror', port_mapping: mapped } } } }, ['http', APP, 'dave'], { laptop: world.laptop2 });
    sessions.push(dave);
    try {
      assert.deepEqual((await keepAlive([['/m1', 'carol'], ['/m2', 'alice']])).bodies, ['pod-a says hi /m1', 'alice GET /m2']);
      await dave.waitFor('app', (v) => v['what'] === 'GET /m2');
      assert.deepEqual(seen(dave), ['dave GET /m1', 'dave GET /m2']);
    } finally {
      await endSession(dave);
    }
  });

  it('should refuse an unfiltered steal and a same-filter steal in one line naming who holds the port, changing nothing', async () => {
    const during = await ruleset(world);
    /** The session's port event (its error names who holds the port); the session must end with status 1. */
    const refused = async (incoming: Record<string, unknown>, name: string): Promise<string> => {
      const s = await startSession(world, { feature: { network: { incoming: { ...incoming, port_mapping: mapped } } } }, ['http', APP, name], { allowError: true });
      sessions.push(s);
      assert.equal(await s.exited, 1, 'the session ends');
      const e = s.events.find((v) => v['event'] === 'incoming' && v['port'] === APP)!;
      assert.equal(e['conflict'], true, JSON.stringify(e));
      assert.equal(s.app.filter((v) => v['what']).length, 0, 'its app got nothing');
      return String(e['error']);
    };
    const whole = await refused({ mode: 'steal' }, 'carol');
    assert.match(whole, /^port 8080 is shared by HTTP filters of \S+@\S+ \(header \^X-Dev-User: alice\$, since [\d:]+ UTC\), \S+@\S+ \(header \^X-Dev-User: bob\$, since [\d:]+ UTC\): an unfiltered steal would take their requests; steal with an http_filter of your own$/);
    const same = await refused(filtered('alice').feature.network.incoming, 'mallory');
    assert.match(same, /^port 8080 is already filtered by \S+ \(header \^X-Dev-User: alice\$, since [\d:]+ UTC\) with the same filter: .*use a filter of your own/);
    assert.equal(await ruleset(world), during, 'the ruleset did not change');
    assert.deepEqual((await keepAlive([['/7', 'alice'], ['/8', 'bob'], ['/9']])).bodies, ['alice GET /7', 'bob GET /8', 'pod-a says hi /9']);

    // on_concurrent_steal "continue": the port stays local, with the reason, and that session goes on.
    const cont = await startSession(world, { feature: { network: { incoming: { mode: 'steal', on_concurrent_steal: 'continue', port_mapping: mapped } } } }, ['http', APP, 'erin'], { allowError: true });
    sessions.push(cont);
    try {
      const e = await cont.waitFor('events', (v) => v['event'] === 'incoming' && v['port'] === APP);
      assert.match(String(e['local']), /port 8080 is shared by HTTP filters of .*\(on_concurrent_steal: continue\)$/);
      assert.equal(e['error'], undefined);
      assert.deepEqual((await keepAlive([['/10', 'bob'], ['/11']])).bodies, ['bob GET /10', 'pod-a says hi /11']);
    } finally {
      assert.equal(await endSession(cont), 0);
    }
  });

  it('should give alice\'s requests to the pod when she leaves with Ctrl-C, and bob keeps his', async () => {
    await endSession(alice);
    // alice's agent hosted the port (she came first): bob's agent takes it over.
    const r = await eventually(() => keepAlive([['/12', 'bob'], ['/13', 'alice'], ['/14']]), (v) => v.bodies[0] === 'bob GET /12');
    assert.deepEqual(r.bodies, ['bob GET /12', 'pod-a says hi /13', 'pod-a says hi /14']);
    assert.deepEqual(await h2('/f@bob,/g@alice'), ['bob-h2 /f', 'pod-h2 /g']);
  });

  it('should leave everything as before when bob\'s CLI is SIGKILLed', async () => {
    signalGroup(bob, 'SIGKILL');
    await bob.exited;
    await gone(20_000, () => inNetns(world.podA.netns, 'agent/main.js'));
    await gone(20_000, () => inNetns(world.podA.netns, 'nft'));
    // The kernel drops the owner table as the last nft's netlink socket is released, which can trail
    // the process's exit by a moment.
    assert.equal(await eventually(() => ruleset(world), (r) => r === rulesBefore), rulesBefore);
    assert.deepEqual(await podlinkSockets(world), [], 'no abstract socket of podlink\'s is left in the pod');
    assert.deepEqual((await keepAlive([['/15', 'bob'], ['/16']])).bodies, ['pod-a says hi /15', 'pod-a says hi /16']);
  });
});
