/**
 * Bad input and bad luck: each case gives one readable line, a non-zero exit, and leaves nothing
 * running (no intproxy, no agent). Processes of a podlink run are found by a marker variable in their
 * environment, which the CLI passes on to the intproxy and the agent. Needs root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { createWorld, type World } from '../helpers/world.js';

const cli = path.join(packageRoot, 'bin', 'podlink.js');

/** Pids whose environment holds MARK=<mark>. */
function marked(mark: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`PODLINK_TEST_MARK=${mark}`)) out.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

/** Wait (bounded by the test's own timeout) until no process carries the mark. */
async function noneLeft(mark: string, except: number[] = []): Promise<void> {
  for (;;) {
    const left = marked(mark).filter((p) => !except.includes(p));
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once `done()` holds, checked after each chunk the stream delivers (and at once). */
function printed(stream: NodeJS.ReadableStream, done: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!done()) return;
      stream.off('data', check);
      resolve();
    };
    stream.on('data', check);
    stream.once('end', () => (done() ? resolve() : reject(new Error('the stream ended before the awaited output'))));
    check();
  });
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

describe('podlink exec: errors and clean-up', () => {
  let world: World;
  let dir: string;

  before(async () => {
    world = await createWorld();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-errors-'));
  });
  after(async () => {
    await world?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Run the CLI to completion in the laptop netns with a fresh marker; returns the marker too. */
  async function run(args: string[], opts: { uid?: number; env?: Record<string, string> } = {}) {
    const mark = randomBytes(6).toString('hex');
    const env = { ...process.env, PODLINK_TEST_MARK: mark, PODLINK_DEBUG: '', ...opts.env };
    const argv = opts.uid === undefined ? [process.execPath, cli, ...args] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', process.execPath, cli, ...args];
    const r = await world.runIn(world.laptop, argv[0]!, argv.slice(1), { env, cwd: dir, timeoutMs: 60_000 });
    return { ...r, mark };
  }

  /** The CLI's own error line: exactly one line on stderr, and nothing left running. */
  async function oneLine(r: { stderr: string; mark: string }, pattern: RegExp): Promise<void> {
    const lines = r.stderr.trim().split('\n').filter((l) => !/^[❯✔›]/.test(l.trim()));
    assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
    assert.match(lines[0]!, pattern);
    await noneLeft(r.mark);
  }

  it('unknown pid', async () => {
    const r = await run(['exec', '-t', 'pid/999999999', '--', 'true']);
    assert.equal(r.code, 1);
    await oneLine(r, /^podlink: unknown target pid\/999999999: no such process \(.+\)$/);
  });

  it('a target that is not a target', async () => {
    const r = await run(['exec', '-t', 'Banana!', '--', 'true']);
    assert.equal(r.code, 1);
    await oneLine(r, /^podlink: .*target: `Banana!` is no target: the pod name must be lowercase .*; write `pod\/NAME/);
  });

  it('a Kubernetes target, or none, with no kubeconfig says where it looked', async () => {
    const noKube = path.join(dir, 'no-home');
    for (const args of [['-t', 'deployment/service-a'], []]) {
      const r = await run(['exec', ...args, '--', 'true'], { env: { HOME: noKube, KUBECONFIG: '' } });
      assert.equal(r.code, 1);
      await oneLine(r, new RegExp(`^podlink: no kubeconfig: ${noKube}/\\.kube/config does not exist and KUBECONFIG is not set \\(give one with --kubeconfig`));
    }
  });

  it('not root', async () => {
    const r = await run(['exec', '-t', `pid/${world.podA.pid}`, '--', 'true'], { uid: 65534 });
    assert.equal(r.code, 1);
    await oneLine(r, /^podlink: target pid\/\d+ needs root: .+ \(run podlink as root/);
  });

  it('command not found', async () => {
    const r = await run(['exec', '-t', `pid/${world.podA.pid}`, '--', 'no-such-command-podlink']);
    assert.equal(r.code, 127);
    await oneLine(r, /^podlink: command not found: no-such-command-podlink \(/);
  });

  it('unreadable config file', async () => {
    const r = await run(['exec', '-f', '/nonexistent/podlink.json', '-t', `pid/${world.podA.pid}`, '--', 'true']);
    assert.equal(r.code, 1);
    await oneLine(r, /^podlink: .*\/nonexistent\/podlink\.json/);
  });

  it('unknown config key, named with a suggestion', async () => {
    const file = path.join(dir, 'typo.json');
    fs.writeFileSync(file, JSON.stringify({ feature: { fs: { mdoe: 'local' } } }));
    const r = await run(['exec', '-f', file, '-t', `pid/${world.podA.pid}`, '--', 'true']);
    assert.equal(r.code, 1);
    await oneLine(r, /feature\.fs\.mdoe.*did you mean .?mode/);
  });

  it('a feature that is not built yet is refused, not ignored', async () => {
    const file = path.join(dir, 'json-log.json');
    fs.writeFileSync(file, JSON.stringify({ agent: { json_log: true } }));
    const r = await run(['exec', '-f', file, '-t', `pid/${world.podA.pid}`, '--', 'true']);
    assert.equal(r.code, 1);
    await oneLine(r, /^podlink: agent\.json_log .*not available/);
  });

  it('taking another session\'s port (on_concurrent_steal "override") is refused with the reason and the way out', async () => {
    const file = path.join(dir, 'override.json');
    fs.writeFileSync(file, JSON.stringify({ feature: { network: { incoming: { mode: 'steal', on_concurrent_steal: 'override' } } } }));
    const r = await run(['exec', '-f', file, '-t', `pid/${world.podA.pid}`, '--', 'true']);
    assert.equal(r.code, 1);
    await oneLine(r, /^podlink: feature\.network\.incoming\.on_concurrent_steal = "override" is refused: a podlink session never takes another developer's traffic away .*http_filter of your own/);
  });

  it('agent killed mid-session: the process gets connection errors, not a hang; the CLI says so and exits non-zero', async () => {
    const mark = randomBytes(6).toString('hex');
    const program = `import sys, urllib.request
print(urllib.request.urlopen("http://${world.serviceB.short}/before", timeout=10).read().decode().strip(), flush=True)
sys.stdin.readline()
try:
    urllib.request.urlopen("http://${world.serviceB.short}/after", timeout=10).read()
    print("after: still worked", flush=True)
except Exception as e:
    print("after: error", type(e).__name__, flush=True)`;
    const child = world.spawnIn(world.laptop, process.execPath, [cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', 'python3', '-c', program], {
      env: { ...process.env, PODLINK_TEST_MARK: mark },
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    await printed(child.stdout!, () => stdout.includes('\n'));
    assert.equal(stdout.trim(), 'hello from service-b /before');
    const agent = marked(mark).find((p) => cmdline(p).includes('dist/agent/main.js'));
    assert.ok(agent, 'the agent process was not found');
    process.kill(agent, 'SIGKILL');
    // Let the CLI notice before the program tries again (it would fail either way).
    await printed(child.stderr!, () => stderr.includes('agent'));
    child.stdin!.end('go\n');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.match(stdout, /after: error (URLError|ConnectionRefusedError|RemoteDisconnected|ConnectionResetError)/);
    // The program itself exited 0 (it caught the error); the CLI says the session failed.
    assert.equal(code, 1);
    assert.match(stderr, /^podlink: the agent killed by SIGKILL; the process's remote calls now fail/m);
    await noneLeft(mark);
  });

  it('Ctrl-C: the interrupt reaches the process, the session ends, nothing is left', async () => {
    const mark = randomBytes(6).toString('hex');
    // detached: the CLI and its user process form a process group, as in a terminal's foreground.
    const child = spawn('nsenter', [`--net=/run/netns/${world.laptop}`, '--', process.execPath, cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', 'sleep', '60'], {
      env: { ...process.env, PODLINK_TEST_MARK: mark },
      detached: true,
      stdio: 'ignore',
    });
    while (!marked(mark).some((p) => cmdline(p).startsWith('sleep'))) await new Promise((r) => setTimeout(r, 20));
    process.kill(-child.pid!, 'SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 130);
    await noneLeft(mark);
  });

  it('kill -9 of the CLI: the intproxy and the agent go away by themselves', async () => {
    const mark = randomBytes(6).toString('hex');
    const child = spawn('nsenter', [`--net=/run/netns/${world.laptop}`, '--', process.execPath, cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', 'sleep', '60'], {
      env: { ...process.env, PODLINK_TEST_MARK: mark },
      stdio: 'ignore',
    });
    let user: number | undefined;
    while (!(user = marked(mark).find((p) => cmdline(p).startsWith('sleep')))) await new Promise((r) => setTimeout(r, 20));
    process.kill(child.pid!, 'SIGKILL');
    // The user's own process is the user's: it may outlive the CLI. Everything podlink started may not.
    await noneLeft(mark, [user]);
    process.kill(user, 'SIGKILL');
  });
});
