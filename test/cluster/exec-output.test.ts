/**
 * What IDEs and scripts read: `podlink exec --output json` reports each start-up step as a JSON line
 * on stderr (stdout stays the user's), with its duration; `podlink ls` lists what can be targeted,
 * as lines and as JSON. Run from the laptop netns as alice, whose Role (docs/rbac.md) is all a
 * developer gets.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { REPO, type ClusterEnv, clusterEnv, inLaptop, run } from './cluster.js';
import { agentPods, podlinkArgv } from './podlink.js';

describe('podlink output for IDEs and scripts', () => {
  let env: ClusterEnv;
  let alice: string;

  before(() => {
    env = clusterEnv();
    alice = env.kubeconfig.replace(/kubeconfig$/, 'kubeconfig-alice');
  });

  it('should print every start-up step as JSON lines on stderr, and keep stdout for the command', async () => {
    const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '--output', 'json', '-t', 'deployment/service-a', '--', 'sh', '-c', 'echo "$GREETING"'], alice));
    const r = await run(cmd, args, { cwd: REPO, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from the podlink test cluster\n');
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { event: string; step?: string; status?: string; ms?: number; message?: string });
    const done = events.filter((e) => e.event === 'step' && e.status === 'done');
    assert.deepEqual(done.map((e) => e.step), ['config', 'path', 'target', 'agent-pod', 'agent-ready', 'env']);
    for (const e of done) assert.ok(Number.isInteger(e.ms) && e.ms! >= 0, `${e.step} has a duration`);
    assert.match(done[1]!.message!, /^Path: layer \(sh: /);
    assert.match(done[2]!.message!, /^Target deployment\/service-a → pod\/service-a-[\w-]+\/container\/app$/);
    assert.match(done[3]!.message!, /^Agent pod podlink-agent-\w+-\w+ running on kcl-node$/);
    const running = events.find((e) => e.event === 'running');
    assert.ok(running && Number.isInteger(running.ms), 'the running event carries the start-up time');
    assert.deepEqual(await agentPods(env), []);
  });

  it('should report a failure as one JSON error event too', async () => {
    const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '--output', 'json', '-t', 'deployment/nope', '--', 'true'], alice));
    const r = await run(cmd, args, { cwd: REPO, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    const error = lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((e) => e?.event === 'error');
    assert.equal(error.code, 'KUBE_NOT_FOUND');
    assert.equal(error.message, 'deployment/nope not found in namespace default');
    assert.equal(lines.at(-1), 'podlink: deployment/nope not found in namespace default (list what can be targeted with `podlink ls -n default`)');
  });

  it('should list what can be targeted, as lines and as JSON', async () => {
    const [cmd, args] = inLaptop(env, podlinkArgv(env, ['ls'], alice));
    const r = await run(cmd, args, { cwd: REPO, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const want of ['deployment/service-a', 'deployment/service-b', 'service/service-a', 'statefulset/ledger', 'cronjob/nightly-report']) {
      assert.ok(lines.includes(want), `${want} in: ${lines.join(', ')}`);
    }
    assert.ok(lines.some((l) => /^pod\/service-a-[\w-]+$/.test(l)));
    assert.ok(!lines.some((l) => l.includes('podlink-agent')), 'agents are not targets');
    const [jcmd, jargs] = inLaptop(env, podlinkArgv(env, ['ls', '--output', 'json'], alice));
    const j = await run(jcmd, jargs, { cwd: REPO, timeoutMs: 60_000 });
    assert.deepEqual(JSON.parse(j.stdout), lines);
  });
});
