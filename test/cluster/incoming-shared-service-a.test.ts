/**
 * Issue 15 on the real cluster — several developers, one pod: alice (kube user alice, netns kcl-laptop,
 * machine alice-laptop) and bob (kube user bob, netns kcl-laptop2, machine bob-laptop) each run
 * `podlink exec -t deployment/service-a` with a filtered steal of their own header. Callers are in
 * another pod (service-b's network namespace) and go through service-a's Service address:
 *   - alice's requests reach alice's local app, bob's reach bob's, a third user's and header-less
 *     requests reach the pod — also mixed on one keep-alive connection;
 *   - `podlink sessions` (as alice, JSON and text) shows both, with their filters and port;
 *   - an unfiltered steal, and a steal with alice's very filter, are refused before their agent
 *     starts, in one line naming the port and the sessions; nothing moves;
 *   - alice leaves with Ctrl-C: her requests reach the pod, bob keeps his (the port is handed over);
 *   - bob's CLI is SIGKILLed: `podlink sessions` shows nobody, no agent pod, Job or Lease is left, no
 *     podlink annotation on service-a, and the pod's ruleset is as before.
 * The second laptop netns is made by testcluster/up.sh (net_laptop2_up). The agent image is
 * PODLINK_AGENT_IMAGE (default: this release's), imported with `bash scripts/agent-image.sh --import`.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectlJson, run } from './cluster.js';
import { agentPods, callIn, podlinkIn, ruleset, sharedScene, startSession, stopSession, type Session, type Where } from './incoming.js';
import { type KubeTestEnv, kubeTestEnv } from './kube-laptop.js';

const filtered = (user: string) => ({ feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: `^X-Dev-User: ${user}$` } } } } });

describe('several developers, one pod: alice and bob filter deployment/service-a from two laptops', () => {
  let env: KubeTestEnv;
  let where: Record<'alice' | 'bob' | 'carol', Where>;
  let podPid: number;
  let callerPid: number;
  let serviceIp: string;
  let pod: string;
  let rulesBefore: string;
  let alice: Session | undefined;
  let bob: Session | undefined;
  const me = os.userInfo().username;

  const url = (p: string) => `http://${serviceIp}:8080${p}`;
  /** One request from service-b's pod, with X-Dev-User: `user` unless undefined; the answer's body. */
  const get = (p: string, user?: string) => callIn(callerPid, 'curl', ['-sS', '-m', '20', ...(user ? ['-H', `X-Dev-User: ${user}`] : []), url(p)]);
  /** service-a's own answer (to /whoami: the pod's other paths answer 404). */
  const isPod = (body: string) => /"service":"service-a"/.test(body);

  async function sessions(as: Where, args: string[] = ['-o', 'json']): Promise<string> {
    const [cmd, argv] = podlinkIn(env, ['sessions', '-t', 'deployment/service-a', ...args], as);
    const r = await run(cmd, argv, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `podlink sessions: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    env = kubeTestEnv();
    ({ where, serviceIp, pod, podPid, callerPid, rulesBefore } = await sharedScene(env));
  });

  after(async () => {
    for (const s of [alice, bob]) if (s && s.child.exitCode === null && s.child.signalCode === null) await stopSession(s, 'SIGKILL');
  });

  it('should give alice her requests and bob his, and everyone else\'s to the pod', async () => {
    alice = await startSession(env, filtered('alice'), ['http', 8080, 'alice'], where.alice);
    bob = await startSession(env, filtered('bob'), ['http', 8080, 'bob'], where.bob);
    assert.equal(await get('/a', 'alice'), 'alice GET /a\n');
    assert.equal(await get('/b', 'bob'), 'bob GET /b\n');
    assert.ok(isPod(await get('/whoami?c', 'carol')), 'a third user\'s request reaches the pod');
    assert.ok(isPod(await get('/whoami?none')), 'a header-less request reaches the pod');
    await alice.waitApp((v) => v['what'] === 'GET /a');
    await bob.waitApp((v) => v['what'] === 'GET /b');
    assert.equal(alice.app.filter((v) => v['what']).length, 1, 'alice saw her request only');
    assert.equal(bob.app.filter((v) => v['what']).length, 1, 'bob saw his request only');
  });

  it('should route per request on one keep-alive connection', async () => {
    const out = await callIn(callerPid, 'curl', ['-sS', '-m', '20', '-H', 'X-Dev-User: alice', url('/k1'), '--next', url('/whoami?k2'), '--next', '-H', 'X-Dev-User: bob', url('/k3'),
      '--next', '-H', 'X-Dev-User: carol', url('/whoami?k4')]);
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'alice GET /k1');
    assert.ok(isPod(lines[1]!), lines[1]);
    assert.equal(lines[2], 'bob GET /k3');
    assert.ok(isPod(lines[3]!), lines[3]);
  });

  it('should list both sessions with podlink sessions, as alice (JSON and text)', async () => {
    // Each CLI records its port on its agent's Job once the port is subscribed.
    const list = await eventually(async () => {
      const l = JSON.parse(await sessions(where.alice));
      assert.deepEqual(l.map((s: any) => s.ports), [[8080], [8080]], JSON.stringify(l));
      return l;
    }, 30_000);
    assert.deepEqual(list.map((s: any) => ({ ...s, since: undefined, agent: undefined })), ['alice', 'bob'].map((u) => ({
      user: me, host: `${u}-laptop`, kubeUser: u, namespace: 'default', target: 'deployment/service-a', pod, mode: 'steal',
      filter: `header ^X-Dev-User: ${u}$`, filterPorts: null, ports: [8080], since: undefined, agent: undefined, ephemeral: false,
    })));
    for (const s of list) {
      assert.ok(Date.now() - Date.parse(s.since) < 10 * 60_000, `since ${s.since}`);
      assert.match(s.agent, /^podlink-agent-/);
    }
    const text = await sessions(where.bob, []);
    assert.match(text, new RegExp(`^${me}@alice-laptop +alice +deployment/service-a +steal +header \\^X-Dev-User: alice\\$ +8080 +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(.* ago\\)$`, 'm'));
    assert.match(text, new RegExp(`^${me}@bob-laptop +bob +deployment/service-a +steal +header \\^X-Dev-User: bob\\$ +8080 `, 'm'));
  });

  it('should refuse an unfiltered steal, and alice\'s very filter, before their agent starts; nothing moves', async () => {
    const during = await ruleset(podPid);
    for (const [config, line] of [
      [{ feature: { network: { incoming: 'steal' } } }, /^port 8080 is shared by HTTP filters of .*@alice-laptop \(header \^X-Dev-User: alice\$, since \d\d:\d\d:\d\d UTC\), .*@bob-laptop \(header \^X-Dev-User: bob\$, since .*\): an unfiltered steal would take their requests; steal with an http_filter of your own$/],
      [filtered('alice'), /^port 8080 is already filtered by .*@alice-laptop \(header \^X-Dev-User: alice\$, since .*\) with the same filter: only one session can take those requests; use a filter of your own/],
    ] as const) {
      const carol = await startSession(env, config, ['http', 8080, 'carol'], where.carol, false);
      assert.equal(await carol.exited, 1, carol.stderr);
      const error = carol.events.find((e) => e['event'] === 'error');
      assert.equal(error?.['code'], 'port_held', carol.stderr);
      assert.match(error!['message'], line);
      assert.match(carol.stderr, /^podlink: port 8080 .*\(nothing was started; `podlink sessions -t deployment\/service-a` lists who is on the target\)$/m);
      assert.deepEqual(carol.events.filter((e) => e['event'] === 'step' && e['step'] === 'agent-pod'), [], 'no agent was started');
      assert.equal(carol.app.filter((v) => v['ready']).length, 0, 'the app never ran');
    }
    assert.equal(await ruleset(podPid), during, 'service-a\'s ruleset did not change');
    assert.equal(JSON.parse(await sessions(where.alice)).length, 2);

    // With on_concurrent_steal "continue" nothing is refused early: carol's agent starts, and the port's
    // host (alice's agent, another Job) refuses her unfiltered steal; the port stays local, she goes on.
    // (Her app listens on 18080, the pod's 8080: alice's app has 8080 on this laptop.)
    const continuing = { feature: { network: { incoming: { mode: 'steal', on_concurrent_steal: 'continue', port_mapping: [[18080, 8080]] } } } };
    const carol = await startSession(env, continuing, ['http', 18080, 'carol'], where.carol);
    const e = carol.events.find((v) => v['event'] === 'incoming');
    assert.match(String(e?.['local']), /^port 8080 is shared by HTTP filters of .*@alice-laptop .*, .*@bob-laptop .*: an unfiltered steal would take their requests; steal with an http_filter of your own \(on_concurrent_steal: continue\)$/);
    assert.ok(isPod(await get('/whoami?c2', 'carol')), 'carol took nothing');
    assert.ok(isPod(await get('/whoami?none3')));
    assert.equal(await get('/a4', 'alice'), 'alice GET /a4\n');
    assert.equal(carol.app.filter((v) => v['what']).length, 0, 'carol\'s app got no request');
    const three = JSON.parse(await sessions(where.alice));
    assert.deepEqual(three.map((s: any) => [s.host, s.filter, s.ports]), [['alice-laptop', 'header ^X-Dev-User: alice$', [8080]], ['bob-laptop', 'header ^X-Dev-User: bob$', [8080]], ['carol-laptop', null, []]]);
    await stopSession(carol, 'end');
    assert.equal(await ruleset(podPid), during, 'service-a\'s ruleset did not change');
    assert.equal(await get('/a2', 'alice'), 'alice GET /a2\n');
    assert.equal(await get('/b2', 'bob'), 'bob GET /b2\n');
  });

  it('should give alice\'s requests back to the pod when she leaves (Ctrl-C), and keep bob\'s', async () => {
    await stopSession(alice!, 'end');
    assert.equal(alice!.child.exitCode !== null || alice!.child.signalCode !== null, true);
    // alice's agent hosted the port: bob's agent takes it over.
    await eventually(async () => assert.equal(await get('/b3', 'bob'), 'bob GET /b3\n'), 30_000);
    assert.ok(isPod(await get('/whoami?a3', 'alice')), 'alice\'s request reaches the pod');
    assert.ok(isPod(await get('/whoami?none2')));
    const list = await eventually(async () => {
      const l = JSON.parse(await sessions(where.alice));
      assert.equal(l.length, 1, JSON.stringify(l));
      return l;
    }, 30_000);
    assert.equal(list[0].host, 'bob-laptop');
  });

  it('should leave nothing when bob\'s CLI is SIGKILLed: no session, agent, Job, Lease, annotation or rule', async () => {
    await stopSession(bob!, 'SIGKILL');
    assert.deepEqual(await agentPods(env, 60_000), [], 'no agent pod or Job is left');
    assert.deepEqual(JSON.parse(await sessions(where.alice)), []);
    assert.equal((await sessions(where.alice, [])).trim(), 'no podlink sessions on deployment/service-a in namespace default');
    const leases = await kubectlJson(env, ['get', 'leases', '-A']);
    assert.deepEqual(leases.items.map((l: any) => `${l.metadata.namespace}/${l.metadata.name}`).filter((n: string) => /podlink/.test(n)), []);
    const podlinkKeys = (meta: any) => Object.keys(meta.annotations ?? {}).filter((k) => k.startsWith('podlink.dev/'));
    assert.deepEqual(podlinkKeys((await kubectlJson(env, ['get', 'deployment', 'service-a'])).metadata), []);
    assert.deepEqual(podlinkKeys((await kubectlJson(env, ['get', 'pod', pod])).metadata), []);
    await eventually(async () => assert.equal(await ruleset(podPid), rulesBefore, 'service-a\'s ruleset'), 30_000);
    assert.ok(isPod(await get('/whoami?b4', 'bob')), 'bob\'s request reaches the pod');
  });

  it('should say in one line why podlink sessions cannot list (RBAC, no such target)', async () => {
    const k = kubeTestEnv().kubeconfigs;
    for (const [as, args, line] of [
      [{ kubeconfig: k.nobody }, [], /^podlink: forbidden: user nobody cannot list jobs \(API group batch\) in namespace default .*docs\/rbac\.md\)$/],
      [where.alice, ['-t', 'deployment/nope'], /^podlink: deployment\/nope not found in namespace default \(list what can be targeted with `podlink ls -n default`\)$/],
    ] as const) {
      const [cmd, argv] = podlinkIn(env, ['sessions', ...args], as);
      const r = await run(cmd, argv, { timeoutMs: 60_000 });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr.trim(), line);
    }
  });
});
