/**
 * Issue 15, visibility of ephemeral agents on the real cluster: alice (kube user alice, machine
 * alice-laptop) runs `podlink exec -t deployment/service-a` with `agent.ephemeral: true` and a
 * filtered steal of her header; her agent is an ephemeral container of service-a's pod, and her
 * session is recorded on a Job that runs nothing (kube/sessions.ts):
 *   - `podlink sessions -o json` (as bob) lists her session with its facts and port 8080, its agent
 *     being the running ephemeral container; a steal with her very filter is refused before its agent
 *     starts (the early check reads the record);
 *   - she leaves with Ctrl-C: her record is deleted and she is listed no more;
 *   - bob runs an ephemeral session too, and his CLI and intproxy are SIGKILLed together (stopped
 *     first, so neither can delete the record): the record stays, but once his agent has exited after
 *     its grace period (agent.communication_timeout, GRACE_S here) he is listed no more, and the
 *     pod's ruleset is as before; the next ephemeral session on the pod (carol's) removes that record.
 * Ephemeral containers cannot be removed: each run leaves two terminated ones in service-a's pod.
 * The test deletes the record the SIGKILLs left (it would otherwise go with the pod).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { eventually, kubectl, kubectlJson, run } from './cluster.js';
import { callIn, podlinkIn, ruleset, sharedScene, startSession, stopSession, type Session, type Where } from './incoming.js';
import { type KubeTestEnv, kubeTestEnv } from './kube-laptop.js';

/** The agents' grace period: how long an agent whose link is gone keeps running. */
const GRACE_S = 5;

const ephemeralSteal = (user: string) => ({
  agent: { ephemeral: true, communication_timeout: GRACE_S },
  feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: `^X-Dev-User: ${user}$` } } } },
});

/** The processes forked by `pid` (the CLI's intproxy). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    out.push(...fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return out;
}

describe('ephemeral agents are visible: podlink sessions and the early check see them while they run', () => {
  let env: KubeTestEnv;
  let where: Record<'alice' | 'bob' | 'carol', Where>;
  let podPid: number;
  let callerPid: number;
  let serviceIp: string;
  let pod: string;
  let rulesBefore: string;
  const sessions: Session[] = [];
  const records: string[] = [];
  const me = os.userInfo().username;

  const get = (p: string, user: string) => callIn(callerPid, 'curl', ['-sS', '-m', '20', '-H', `X-Dev-User: ${user}`, `http://${serviceIp}:8080${p}`]);
  const isPod = (body: string) => /"service":"service-a"/.test(body);

  async function listed(as: Where): Promise<any[]> {
    const [cmd, argv] = podlinkIn(env, ['sessions', '-t', 'deployment/service-a', '-o', 'json'], as);
    const r = await run(cmd, argv, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `podlink sessions: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }
  /** The state of the ephemeral container `name` in service-a's pod. */
  async function containerState(name: string): Promise<Record<string, unknown> | undefined> {
    const p = await kubectlJson(env, ['get', 'pod', pod]);
    return p.status.ephemeralContainerStatuses?.find((c: any) => c.name === name)?.state;
  }
  async function recordExists(name: string): Promise<boolean> {
    const r = await kubectlJson(env, ['get', 'jobs', '--field-selector', `metadata.name=${name}`]);
    return r.items.length === 1;
  }
  /** The one session listed, with its port taken (the CLI patches it in as the port is subscribed). */
  async function listedWithPort(as: Where): Promise<any> {
    return eventually(async () => {
      const l = await listed(as);
      assert.deepEqual(l.map((s) => s.ports), [[8080]], JSON.stringify(l));
      return l[0];
    }, 30_000);
  }

  before(async () => {
    env = kubeTestEnv();
    ({ where, serviceIp, pod, podPid, callerPid, rulesBefore } = await sharedScene(env));
  });

  after(async () => {
    for (const s of sessions) if (s.child.exitCode === null && s.child.signalCode === null) await stopSession(s, 'SIGKILL');
    for (const name of records) await kubectl(env, ['delete', 'job', name, '--ignore-not-found', '--wait=false']).catch(() => undefined);
  });

  it('should list alice\'s ephemeral session with its facts and port, its agent being the running container', async () => {
    const alice = await startSession(env, ephemeralSteal('alice'), ['http', 8080, 'alice'], where.alice);
    sessions.push(alice);
    assert.equal(await get('/a', 'alice'), 'alice GET /a\n');
    const s = await listedWithPort(where.bob);
    records.push(s.agent);
    assert.deepEqual({ ...s, since: undefined, agent: undefined }, {
      user: me, host: 'alice-laptop', kubeUser: 'alice', namespace: 'default', target: 'deployment/service-a', pod, mode: 'steal',
      filter: 'header ^X-Dev-User: alice$', filterPorts: null, ports: [8080], since: undefined, agent: undefined, ephemeral: true,
    });
    assert.ok(Math.abs(Date.now() - Date.parse(s.since)) < 10 * 60_000, `since ${s.since}`);
    assert.match(s.agent, /^podlink-agent-\w{5}$/);
    const step = alice.events.find((e) => e['event'] === 'step' && e['step'] === 'agent-pod' && String(e['message']).startsWith(`Agent ephemeral container ${s.agent} in pod ${pod} running on `));
    assert.ok(step, `the agent is an ephemeral container: ${alice.stderr}`);
    assert.ok((await containerState(s.agent))?.['running'], 'the agent is a running ephemeral container of service-a\'s pod');
    const record = await kubectlJson(env, ['get', 'job', s.agent]);
    assert.equal(record.spec.suspend, true, 'the record runs nothing');
  });

  it('should refuse a steal with alice\'s very filter before its agent starts', async () => {
    const carol = await startSession(env, ephemeralSteal('alice'), ['http', 8080, 'carol'], where.carol, false);
    sessions.push(carol);
    assert.equal(await carol.exited, 1, carol.stderr);
    const error = carol.events.find((e) => e['event'] === 'error');
    assert.equal(error?.['code'], 'port_held', carol.stderr);
    assert.match(error!['message'], /^port 8080 is already filtered by .*@alice-laptop \(header \^X-Dev-User: alice\$, since .*\) with the same filter/);
    assert.deepEqual(carol.events.filter((e) => e['event'] === 'step' && e['step'] === 'agent-pod'), [], 'no agent was started');
  });

  it('should list alice no more once she leaves (Ctrl-C): her record is deleted', async () => {
    await stopSession(sessions[0]!, 'end');
    assert.deepEqual(await listed(where.bob), []);
    assert.equal(await recordExists(records[0]!), false, 'the CLI deleted the record');
    assert.ok(isPod(await get('/whoami?a2', 'alice')), 'alice\'s requests reach the pod');
  });

  it('should list bob no more once his agent exits, after his CLI and intproxy are SIGKILLed', async () => {
    const bob = await startSession(env, ephemeralSteal('bob'), ['http', 8080, 'bob'], where.bob);
    sessions.push(bob);
    const s = await listedWithPort(where.alice);
    records.push(s.agent);
    assert.equal(s.host, 'bob-laptop');
    assert.equal(await get('/b', 'bob'), 'bob GET /b\n');
    const cli = bob.child.pid!;
    const intproxy = children(cli).filter((p) => /intproxy/.test(fs.readFileSync(`/proc/${p}/cmdline`, 'utf8')));
    assert.equal(intproxy.length, 1, 'the CLI\'s intproxy');
    // Stopped first, so that neither sees the other go and deletes the record.
    for (const p of [...intproxy, cli]) process.kill(p, 'SIGSTOP');
    for (const p of [...intproxy, cli]) process.kill(p, 'SIGKILL');
    await stopSession(bob, 'SIGKILL');
    // The record stays; it stops counting when the container exits: its link is gone (or silent past
    // the agent's idle limit), then GRACE_S.
    await eventually(async () => assert.deepEqual(await listed(where.alice), []), 60_000, 1000);
    assert.equal(await recordExists(s.agent), true, 'the record is still there: only the container\'s state hid it');
    assert.ok((await containerState(s.agent))?.['terminated'], 'the agent exited');
    await eventually(async () => assert.equal(await ruleset(podPid), rulesBefore, 'service-a\'s ruleset'), 30_000);
    assert.ok(isPod(await get('/whoami?b2', 'bob')), 'bob\'s requests reach the pod');
    // The next ephemeral session on the pod removes the record bob's agent left (its container exited).
    const carol = await startSession(env, { agent: { ephemeral: true, communication_timeout: GRACE_S } }, ['http', 8080, 'carol'], where.carol);
    sessions.push(carol);
    try {
      await eventually(async () => assert.equal(await recordExists(s.agent), false, 'bob\'s record'), 30_000, 1000);
      assert.ok(carol.stderr.includes(`removed 1 session record(s) of earlier ephemeral agents that have exited: ${s.agent}`) ||
        carol.events.some((e) => String(e['message'] ?? '').includes(s.agent)), `carol's session says what it removed: ${carol.stderr}`);
    } finally {
      await stopSession(carol, 'end');
    }
  });
});
