/**
 * Nothing is left in the cluster, whatever way a session ends: a normal exit, a failing command,
 * Ctrl-C, SIGTERM and SIGKILL of the CLI, SIGKILL of the intproxy — the agent's pod and Job are gone
 * within seconds, and the target pod is untouched (the same pod, no restart). And a dropped
 * port-forward in the middle of a session is not its end: the link is cut (`ss -K` on the laptop's
 * connections to the API server), the connection open at that moment is reset, and the next request
 * of the same process succeeds without restarting podlink.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO, type ClusterEnv, clusterEnv, eventually, inLaptop, kubectlJson, run } from './cluster.js';
import { agentPods, podlinkArgv } from './podlink.js';

interface TargetState {
  pod: string;
  restarts: number;
}

async function targetState(env: ClusterEnv): Promise<TargetState> {
  const list = await kubectlJson(env, ['get', 'pods', '-l', 'app=service-a']);
  const live = list.items.filter((p: any) => !p.metadata.deletionTimestamp);
  return { pod: live.map((p: any) => p.metadata.name).join(','), restarts: live.reduce((n: number, p: any) => n + p.status.containerStatuses[0].restartCount, 0) };
}

/** Start `podlink exec` in the laptop netns, in its own process group (like a shell job). */
function startExec(env: ClusterEnv, command: string[], extra: string[] = []): { child: ChildProcess; output: () => string } {
  const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', ...extra, '-t', 'deployment/service-a', '--', ...command]));
  const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function waitFor(output: () => string, re: RegExp, ms = 120_000): Promise<RegExpExecArray> {
  return eventually(async () => {
    const m = re.exec(output());
    if (!m) throw new Error(`never printed ${re}: ${output()}`);
    return m;
  }, ms, 100);
}

/** Pids of the children of `parent` whose command line contains `needle` (this machine's /proc). */
function childrenOf(parent: number, needle: string): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === parent && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle);
    } catch {
      return false;
    }
  }).map(Number);
}

describe('podlink exec on the cluster: every way out leaves nothing behind', () => {
  let env: ClusterEnv;
  let before0: TargetState;
  let tmp: string;

  before(async () => {
    env = clusterEnv();
    before0 = await targetState(env);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-lifecycle-'));
  });

  const untouched = async (): Promise<void> => {
    assert.deepEqual(await agentPods(env), [], 'no agent pod or Job is left');
    assert.deepEqual(await targetState(env), before0, 'the target pod is the same and did not restart');
  };

  it('should pass a failing command\'s status on and clean up', async () => {
    const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '-q', '-t', 'deployment/service-a', '--', 'sh', '-c', 'exit 3']));
    const r = await run(cmd, args, { cwd: REPO, timeoutMs: 120_000 });
    assert.equal(r.code, 3, r.stderr);
    await untouched();
  });

  it('should leave Ctrl-C to the process, then clean up', async () => {
    const marker = path.join(tmp, 'ctrl-c');
    const s = startExec(env, ['sh', '-c', `trap 'echo interrupted > ${marker}; exit 130' INT; echo started; while :; do sleep 0.1; done`]);
    await waitFor(s.output, /^started$/m);
    process.kill(-s.child.pid!, 'SIGINT'); // the terminal sends it to the whole foreground group
    const [code] = await once(s.child, 'exit');
    assert.equal(code, 130);
    assert.equal(fs.readFileSync(marker, 'utf8'), 'interrupted\n');
    await untouched();
  });

  it('should pass SIGTERM of the CLI to the process, then clean up', async () => {
    const s = startExec(env, ['sh', '-c', 'echo started; exec sleep 60']);
    await waitFor(s.output, /^started$/m);
    process.kill(s.child.pid!, 'SIGTERM'); // nsenter passes it to podlink's node: the same pid after exec
    const [code, signal] = await once(s.child, 'exit');
    assert.ok(code === 143 || signal === 'SIGTERM', `exit ${code} ${signal}: ${s.output()}`);
    await untouched();
  });

  it('should delete the agent when the CLI is killed with SIGKILL', async () => {
    const s = startExec(env, ['sh', '-c', 'echo started; exec sleep 60']);
    await waitFor(s.output, /^started$/m);
    const shell = childrenOf(s.child.pid!, 'sleep');
    process.kill(s.child.pid!, 'SIGKILL');
    await once(s.child, 'exit');
    await untouched(); // the intproxy saw its CLI go and deleted the Job
    for (const p of shell) process.kill(p, 'SIGKILL'); // the orphaned user process
  });

  it('should delete the agent when the intproxy is killed with SIGKILL, and say so', async () => {
    const s = startExec(env, ['sh', '-c', 'echo started; exec sleep 60']);
    await waitFor(s.output, /^started$/m);
    const intproxy = childrenOf(s.child.pid!, path.join('dist', 'intproxy', 'main.js'));
    assert.equal(intproxy.length, 1, `one intproxy runs: ${intproxy}`);
    process.kill(intproxy[0]!, 'SIGKILL');
    await waitFor(s.output, /podlink: the intproxy exited; the process's remote calls now fail/);
    assert.deepEqual(await agentPods(env), [], 'the CLI deleted the agent at once');
    process.kill(-s.child.pid!, 'SIGTERM');
    await once(s.child, 'exit');
    await untouched();
  });

  it('should survive a dropped port-forward: the open connection is reset, the next request works', async () => {
    // One node process, three steps: hold a keep-alive connection, wait for the cut, then use the old
    // connection (it must have been reset) and a new one (it must work), printing what happened.
    const script = `
      const http = require('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = (a) => new Promise((res, rej) => http.get('http://service-b:8080/whoami', { agent: a }, (r) => {
        let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => res(JSON.parse(b).service)); }).on('error', rej));
      (async () => {
        console.log('first', await get(agent));
        const sock = Object.values(agent.freeSockets)[0][0];
        sock.ref(); // a free keep-alive socket does not hold the process up by itself
        const reset = new Promise((r) => sock.once('close', () => r('reset')));
        console.log('ready-to-cut');
        console.log('held', await reset);
        console.log('after', await get(undefined));
        agent.destroy();
      })().catch((e) => { console.log('error', e.code || e.message); process.exit(1); });`;
    const s = startExec(env, ['node', '-e', script]);
    await waitFor(s.output, /^ready-to-cut$/m); // (not the script's text, which the CLI echoes)
    // Every connection from the laptop netns to the API server: podlink's port-forward among them.
    const [cmd, args] = inLaptop(env, ['ss', '-K', 'dst', new URL(env.api).hostname, 'dport', '=', new URL(env.api).port]);
    const cut = spawnSync(cmd, args, { encoding: 'utf8' });
    assert.equal(cut.status, 0, cut.stderr);
    const [code] = await once(s.child, 'exit');
    const out = s.output();
    assert.equal(code, 0, out);
    assert.match(out, /first service-b\n[\s\S]*held reset\n[\s\S]*after service-b\n/);
    assert.match(out, /podlink: the link to the agent dropped \(.*\); reconnecting…/);
    assert.match(out, /podlink: reconnected to the agent after \d+\.\d s \(1 open connection was reset\)/);
    await untouched();
  });
});
