/**
 * Issue 14 on the real cluster: `podlink exec -t deployment/service-a` from the laptop netns takes
 * service-a's incoming traffic — stolen whole, stolen per request by an HTTP filter (HTTP/1.1 keep-alive
 * alternating, a path filter, gRPC and a WebSocket that match), with port_mapping, or mirrored — while the
 * callers are in other pods (service-b's network namespace, through service-a's Service address) or,
 * for the path filter, inside service-a's pod over localhost. The kubelet's probes of the port stay with
 * service-a's app throughout (the pod stays Ready). After each session service-a's pod has
 * exactly the ruleset it had (nft and iptables in its network namespace), also after SIGKILL of the CLI,
 * and no agent pod or Job is left.
 *
 * The callers run in service-b's pod network namespace (entered from this machine, which hosts the
 * cluster): their packets leave that pod and reach service-a through the Service's ClusterIP, exactly
 * as another pod's would. The agent image is PODLINK_AGENT_IMAGE (default: this release's), imported
 * with `bash scripts/agent-image.sh --import`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { type ClusterEnv, clusterEnv, kubectlJson } from './cluster.js';
import { agentPods, callIn, containerPid, fixtures, ruleset as rulesOf, startSession, stopSession, type Session } from './incoming.js';

describe('podlink exec -t deployment/service-a: incoming traffic on the cluster', () => {
  let env: ClusterEnv;
  let serviceIp: string;
  let podPid: number;
  let callerPid: number;
  let rulesBefore: string;

  const ruleset = () => rulesOf(podPid);
  /** A caller in service-b's pod network namespace. */
  const call = (cmd: string, args: string[]) => callIn(callerPid, cmd, args);
  const start = (config: unknown, app: [string, number, string]) => startSession(env, config, app);

  async function stop(s: Session, how: 'end' | 'SIGKILL'): Promise<void> {
    await stopSession(s, how);
    // The agent's pod goes with the session (the intproxy deletes it when the CLI was killed), and
    // its nft with it: the kernel drops the owner table.
    assert.deepEqual(await agentPods(env, 60_000), [], 'no agent pod or Job is left');
    assert.equal(await ruleset(), rulesBefore, `service-a's ruleset after ${how}`);
  }

  before(async () => {
    env = clusterEnv();
    serviceIp = (await kubectlJson(env, ['get', 'service', 'service-a'])).spec.clusterIP;
    podPid = await containerPid(env, 'service-a');
    callerPid = await containerPid(env, 'service-b');
    rulesBefore = await ruleset();
  });

  const url = (p: string) => `http://${serviceIp}:8080${p}`;

  it('should steal service-a\'s port: callers in service-b get the local answer, the app sees them', async () => {
    const s = await start({ feature: { network: { incoming: 'steal' } } }, ['http', 8080, 'local']);
    assert.equal(await call('curl', ['-sS', '-m', '20', url('/stolen')]), 'local GET /stolen\n');
    const seen = await s.waitApp((v) => v['what'] === 'GET /stolen');
    assert.doesNotMatch(String(seen['peer']), /127\.0\.0\.1/, `the real caller, not the intproxy: ${seen['peer']}`);
    await stop(s, 'end');
    assert.match(await call('curl', ['-sS', '-m', '20', url('/whoami')]), /"service":"service-a"/, 'service-a answers again');
  });

  it('should take only matching requests, per request on one keep-alive connection (SIGKILL of the CLI at the end)', async () => {
    const s = await start({ feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: '^X-Dev-User: alice$' } } } } }, ['http', 8080, 'local']);
    const out = await call('curl', ['-sS', '-m', '20', '-H', 'X-Dev-User: alice', url('/mine'), '--next', url('/whoami'), '--next', '-H', 'X-Dev-User: alice', url('/mine2')]);
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'local GET /mine');
    assert.equal(JSON.parse(lines[1]!).service, 'service-a', 'the unmatched request reached the pod');
    assert.equal(lines[2], 'local GET /mine2');
    await stop(s, 'SIGKILL');
  });

  it('should take requests whose path matches, from another pod and from inside the pod over localhost', async () => {
    const s = await start({ feature: { network: { incoming: { mode: 'steal', http_filter: { path_filter: '^/api/' } } } } }, ['http', 8080, 'local']);
    const lines = (await call('curl', ['-sS', '-m', '20', url('/api/x?q=1'), '--next', url('/whoami'), '--next', url('/api/y')])).trim().split('\n');
    assert.equal(lines[0], 'local GET /api/x?q=1');
    assert.equal(JSON.parse(lines[1]!).service, 'service-a', 'the unmatched path reached the pod');
    assert.equal(lines[2], 'local GET /api/y');
    // A caller inside service-a's pod over localhost (a sidecar's path) is filtered the same way.
    assert.equal(await callIn(podPid, 'curl', ['-sS', '-m', '20', 'http://127.0.0.1:8080/api/inside']), 'local GET /api/inside\n');
    assert.match(await callIn(podPid, 'curl', ['-sS', '-m', '20', 'http://127.0.0.1:8080/whoami']), /"service":"service-a"/);
    await stop(s, 'end');
  });

  it('should route gRPC calls with the header to the local app (grpc-js both ends)', async () => {
    const s = await start({ feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: '^x-dev-user: alice$' } } } } }, ['grpc', 8080, 'local-grpc']);
    const r = JSON.parse(await call(process.execPath, [path.join(fixtures, 'client.mjs'), 'grpc', `${serviceIp}:8080`, 'hi', 'alice']));
    assert.deepEqual(r, { unary: 'local-grpc: hi', stream: ['local-grpc: hi 1', 'local-grpc: hi 2', 'local-grpc: hi 3'] });
    await stop(s, 'end');
  });

  it('should give a WebSocket that matches wholly to the local app (ws both ends)', async () => {
    const s = await start({ feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: '^x-dev-user: alice$' } } } } }, ['ws', 8080, 'local-ws']);
    const r = JSON.parse(await call(process.execPath, [path.join(fixtures, 'client.mjs'), 'ws', `ws://${serviceIp}:8080/chat`, 'ping', 'alice']));
    assert.equal(r.answer, 'local-ws: ping');
    await stop(s, 'end');
  });

  /** service-a's pod as the API server sees it: Ready, and how often its container restarted. */
  const podState = async (): Promise<{ ready: string; restarts: number }> => {
    const pod = (await kubectlJson(env, ['get', 'pods', '-l', 'app=service-a'])).items.find((p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    return { ready: pod.status.conditions.find((c: any) => c.type === 'Ready').status, restarts: pod.status.containerStatuses[0].restartCount };
  };
  const probesSeenLocally = (s: Session) => s.app.filter((v) => String(v['what']).startsWith('GET /healthz'));

  it('should leave the kubelet\'s probes to service-a\'s app while stealing its port, whole or by a filter they match', async () => {
    // service-a's readinessProbe is GET /healthz on 8080 every 2 s; each session lasts four of them.
    const before = await podState();
    const whole = await start({ feature: { network: { incoming: 'steal' } } }, ['http', 8080, 'local']);
    try {
      assert.equal(await call('curl', ['-sS', '-m', '20', url('/first')]), 'local GET /first\n');
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(await call('curl', ['-sS', '-m', '20', url('/later')]), 'local GET /later\n', 'the Service still routes to the pod');
      assert.deepEqual(probesSeenLocally(whole), [], 'no probe reached the local app');
    } finally {
      await stop(whole, 'end');
    }
    // A filter the probes' path matches: another caller's /healthz is taken, the kubelet's is not.
    const filtered = await start({ feature: { network: { incoming: { mode: 'steal', http_filter: { path_filter: '^/healthz' } } } } }, ['http', 8080, 'local']);
    try {
      assert.equal(await call('curl', ['-sS', '-m', '20', url('/healthz?from=b')]), 'local GET /healthz?from=b\n');
      await new Promise((r) => setTimeout(r, 8000));
      assert.deepEqual(probesSeenLocally(filtered).map((v) => v['what']), ['GET /healthz?from=b'], 'only the other caller\'s request reached the local app');
    } finally {
      await stop(filtered, 'end');
    }
    assert.deepEqual(await podState(), { ready: 'True', restarts: before.restarts });
  });

  it('should map the app\'s port 3000 to service-a\'s 8080 (port_mapping)', async () => {
    const s = await start({ feature: { network: { incoming: { mode: 'steal', port_mapping: [[3000, 8080]] } } } }, ['http', 3000, 'local3000']);
    assert.equal(await call('curl', ['-sS', '-m', '20', url('/mapped')]), 'local3000 GET /mapped\n');
    await stop(s, 'end');
  });

  it('should leave service-a\'s ruleset as before when the agent is SIGKILLed mid-session', async () => {
    const s = await start({ feature: { network: { incoming: 'steal' } } }, ['http', 8080, 'local']);
    assert.equal(await call('curl', ['-sS', '-m', '20', url('/x')]), 'local GET /x\n');
    assert.notEqual(await ruleset(), rulesBefore, 'the redirect is in place');
    // The agent runs on this machine's node: the process serving service-a's pid (its second stage).
    const agents = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').includes(`agent/main.js --listen-fd 3 --pid ${podPid}`);
      } catch {
        return false;
      }
    });
    assert.equal(agents.length, 1, 'one agent serves service-a');
    process.kill(Number(agents[0]), 'SIGKILL');
    // Its nft goes with it, and the kernel drops the owner table: the pod is served again at once.
    const until = Date.now() + 30_000;
    while ((await ruleset()) !== rulesBefore && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ruleset(), rulesBefore, 'service-a\'s ruleset after SIGKILL of the agent');
    assert.match(await call('curl', ['-sS', '-m', '20', url('/whoami')]), /"service":"service-a"/);
    await stop(s, 'SIGKILL');
  });

  it('should mirror: service-a answers, the local app gets the same request', async () => {
    const s = await start({}, ['http', 8080, 'local']);
    assert.match(await call('curl', ['-sS', '-m', '20', url('/whoami?copy=1')]), /"service":"service-a"/);
    await s.waitApp((v) => v['what'] === 'GET /whoami?copy=1');
    assert.equal(await ruleset(), rulesBefore, 'mirroring changes nothing in the pod');
    await stop(s, 'end');
  });
});
