// Starting and watching the world's long-running processes (pod servers, dnsmasq) and
// running readiness probes inside a network namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from './world-sys.js';

/**
 * test/fixtures/world, found by walking up from this module: works from dist/test/helpers
 * (compiled) and from test/helpers (if someone runs the sources with a TS loader).
 */
export function fixturesDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const c = join(d, 'test', 'fixtures', 'world');
    if (existsSync(join(c, 'pod-server.mjs'))) return c;
    d = dirname(d);
  }
  throw new Error('test/fixtures/world/pod-server.mjs not found above ' + fileURLToPath(import.meta.url));
}

/** Enter only the network namespace: same mount namespace, cwd, env and uid as the caller. */
export function nsenterArgs(netns: string, cmd: string, args: string[]): string[] {
  return [`--net=/run/netns/${netns}`, '--', cmd, ...args];
}

// setpriv --pdeathsig KILL: if the process that built the world dies without destroy()
// (test runner crash, SIGKILL), the servers die with it instead of lingering. The flag
// survives the exec chain (setpriv → ip/nsenter → unshare → sh → node), so the pid is still
// the server's own. Only the namespaces then remain; `world-cli down --name N` removes them.
const SETPRIV = '/usr/bin/setpriv';

export interface Daemon {
  child: ChildProcess;
  pid: number;
  /** Resolves on the server's {"ready":...} line; rejects if it exits or times out first. */
  ready: Promise<void>;
  /** Rejects as soon as the process exits (for daemons without a ready line, e.g. dnsmasq). */
  exited: Promise<never>;
}

export function startDaemon(what: string, argv: string[], env: NodeJS.ProcessEnv, logFile: string, readyTimeoutMs = 15_000): Daemon {
  const full = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', ...argv] : argv;
  const child = spawn(full[0]!, full.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${what}: could not start ${argv[0]}`);
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stderr!.pipe(log);
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n');
    } catch {
      return '';
    }
  };
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, sig) => {
      // Give the log stream a moment to flush what the process wrote before dying.
      setTimeout(() => reject(new Error(`${what} exited early (code ${code}, signal ${sig}); log ${logFile}:\n${tail()}`)), 50);
    });
    child.once('error', reject);
  });
  exited.catch(() => {}); // only an error for whoever awaits it
  const ready = new Promise<void>((resolve, reject) => {
    let buf = '';
    let isReady = false;
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${readyTimeoutMs} ms; log ${logFile}:\n${tail()}`)), readyTimeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      log.write(chunk);
      if (isReady) return;
      buf += chunk;
      if (/^\{"ready":true/m.test(buf)) {
        isReady = true;
        clearTimeout(timer);
        resolve();
      }
    });
    exited.catch((e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  ready.catch(() => {});
  // The world must not keep the test process alive on its own: destroy() is how it ends.
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  return { child, pid: child.pid, ready, exited };
}

/** Runs test/fixtures/world/probe.mjs inside `netns` until its check passes; throws with its last error. */
export async function probe(netns: string, deadlineMs: number, check: string[]): Promise<string> {
  const script = join(fixturesDir(), 'probe.mjs');
  const r = await exec('nsenter', nsenterArgs(netns, process.execPath, [script, String(deadlineMs), ...check]), {
    timeoutMs: deadlineMs + 5000,
  });
  if (r.code !== 0) throw new Error(`readiness probe failed in ${netns}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout.trim();
}
