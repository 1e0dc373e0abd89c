/**
 * Issue 14 on the real cluster: `podlink exec -t deployment/service-a` from the laptop netns takes
 * service-a's incoming traffic — stolen whole, stolen per request by an HTTP filter (HTTP/1.1 keep-alive
 * alternating, gRPC and a WebSocket that match), with port_mapping, or mirrored — while the callers are
 * in other pods (service-b's network namespace, through service-a's Service address). After each
 * session service-a's pod has exactly the ruleset it had (nft and iptables in its network namespace),
 * also after SIGKILL of the CLI, and no agent pod or Job is left.
 *
 * The callers run in service-b's pod network namespace (entered from this machine, which hosts the
 * cluster): their packets leave that pod and reach service-a through the Service's ClusterIP, exactly
 * as another pod's would. The agent image is PODLINK_AGENT_IMAGE (default: this release's), imported
 * with `bash scripts/agent-image.sh --import`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { findContainerPid } from '../../agent/container.js';
import { defaultAgentImage } from '../../agent/image.js';
import { REPO, type ClusterEnv, clusterEnv, inLaptop, kubectlJson, run } from './cluster.js';
import { agentPods, podlinkArgv } from './podlink.js';

const fixtures = path.join(REPO, 'test', 'fixtures', 'incoming');
const image = process.env['PODLINK_AGENT_IMAGE'] ?? defaultAgentImage();

interface Session {
  child: ChildProcess;
  app: Record<string, any>[];
  stderr: string;
  exited: Promise<number | null>;
  waitApp(pred: (v: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

describe('podlink exec -t deployment/service-a: incoming traffic on the cluster', () => {
  let env: ClusterEnv;
  let serviceIp: string;
  let podPid: number;
  let callerPid: number;
  let rulesBefore: string;

  /** The main container's process of a demo app's Running pod, on this machine. */
  async function containerPid(app: string): Promise<number> {
    const list = await kubectlJson(env, ['get', 'pods', '-l', `app=${app}`]);
    const pod = list.items.find((p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    return findContainerPid(pod.status.containerStatuses[0].containerID);
  }

  async function ruleset(): Promise<string> {
    const out: string[] = [];
    for (const [cmd, args] of [['nft', ['list', 'ruleset']], ['iptables-save', []], ['ip6tables-save', []]] as const) {
      const r = await run('nsenter', [`--target=${podPid}`, '--net', '--', cmd, ...args]);
      assert.equal(r.code, 0, `${cmd} in service-a's pod: ${r.stderr}`);
      out.push(r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
    }
    return out.join('\n=====\n');
  }

  /** A caller in service-b's pod network namespace. */
  async function call(cmd: string, args: string[]): Promise<string> {
    const r = await run('nsenter', [`--target=${callerPid}`, '--net', '--', cmd, ...args], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async function start(config: unknown, app: [string, number, string]): Promise<Session> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-incoming-kube-'));
    const file = path.join(dir, 'podlink.json');
    fs.writeFileSync(file, JSON.stringify(config));
    const argv = podlinkArgv(env, ['exec', '-o', 'json', '-f', file, '-i', image, '-t', 'deployment/service-a', '--', process.execPath, path.join(fixtures, 'app.mjs'), app[0], String(app[1]), app[2]]);
    const [cmd, args] = inLaptop(env, argv);
    const child = spawn(cmd, args, { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const s: Session = { child, app: [], stderr: '', exited: new Promise((r) => child.once('exit', (c) => r(c))), waitApp: undefined! };
    const waiters: (() => void)[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        s.app.push(JSON.parse(l));
      } catch {
        return;
      }
      for (const w of waiters.splice(0)) w();
    });
    let incoming: (v: Record<string, any>) => void = () => undefined;
    createInterface({ input: child.stderr! }).on('line', (l) => {
      s.stderr += `${l}\n`;
      try {
        const v = JSON.parse(l);
        if (v.event === 'incoming') incoming(v);
      } catch {
        /* not an event */
      }
    });
    s.waitApp = (pred) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = s.app.find(pred);
          if (hit) resolve(hit);
          else waiters.push(check);
        };
        check();
        void s.exited.then((c) => reject(new Error(`podlink exited (${c}) first: ${s.stderr}`)));
      });
    const e = await new Promise<Record<string, any>>((resolve, reject) => {
      incoming = resolve;
      void s.exited.then((c) => reject(new Error(`podlink exited (${c}) before the port was subscribed: ${s.stderr}`)));
    });
    if (e['error']) throw new Error(`not subscribed: ${e['error']}`);
    return s;
  }

  async function stop(s: Session, how: 'end' | 'SIGKILL'): Promise<void> {
    if (how === 'end') process.kill(-s.child.pid!, 'SIGINT');
    else {
      process.kill(s.child.pid!, 'SIGKILL');
      await s.exited;
      process.kill(-s.child.pid!, 'SIGKILL');
    }
    await s.exited;
    // The agent's pod goes with the session (the intproxy deletes it when the CLI was killed), and
    // its nft with it: the kernel drops the owner table.
    assert.deepEqual(await agentPods(env, 60_000), [], 'no agent pod or Job is left');
    assert.equal(await ruleset(), rulesBefore, `service-a's ruleset after ${how}`);
  }

  before(async () => {
    env = clusterEnv();
    serviceIp = (await kubectlJson(env, ['get', 'service', 'service-a'])).spec.clusterIP;
    podPid = await containerPid('service-a');
    callerPid = await containerPid('service-b');
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
