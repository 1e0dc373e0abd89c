/**
 * Running real programs under the layer for its own tests, and the fictional target (files, names,
 * remotes) the scripted intproxy serves them. Paths under /podlink-remote exist nowhere on this machine.
 */
import { spawn } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { layerLibrary, packageRoot } from '../../common/paths.js';
import type { Addr } from '../../protocol/types.js';
import type { ScriptedTable } from './scripted-intproxy.js';


export const REPO_ROOT = packageRoot;
export const LAYER_LIB = layerLibrary;
export const LAYER_TEST_BIN = path.join(packageRoot, 'layer/build/test');
export const LAYER_FIXTURES = path.join(packageRoot, 'test/fixtures/layer');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  /** PODLINK_SOCK; omit for a passive layer. */
  sock?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  cwd?: string;
  /** Without LD_PRELOAD (a baseline run). */
  noLayer?: boolean;
  /** Called with everything the program printed so far, on each chunk (to await a line it prints). */
  onStdout?: (stdout: string) => void;
}

/**
 * Runs a program with the layer preloaded, as the CLI would: a clean environment (no inherited
 * PODLINK_*), the cwd and $HOME as local prefixes. Asynchronous on purpose: the scripted intproxy
 * answers from this same event loop.
 */
export function runUnderLayer(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const cwd = opts.cwd ?? REPO_ROOT;
  const home = process.env['HOME'] ?? '/root';
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    // Freed memory poisoned: a use after free in the layer or the supervisor fails every time, not once
    // in a while under load.
    MALLOC_PERTURB_: '165',
  };
  if (!opts.noLayer) {
    env['LD_PRELOAD'] = LAYER_LIB;
    env['PODLINK_FS_LOCAL_PREFIXES'] = `${cwd}\n${home}`;
    if (opts.sock) env['PODLINK_SOCK'] = opts.sock;
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve) => {
    // Its own process group: a timeout kills forked children too, which would otherwise keep the
    // output pipes open and the test waiting.
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: stderr + String(err), timedOut });
    });
  });
}

/** "key=value" lines of a snippet's output as a map (the last value of a key wins). */
export function keyValues(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

// ---------------------------------------------------------------------------------------------------
// The fictional target the layer tests share.

export const T = {
  FILE: '/podlink-remote/app/config.txt',
  FILE_CONTENT: 'remote config\nline2\n',
  DIR: '/podlink-remote/app',
  LINK: '/podlink-remote/app/current',
  MISSING: '/podlink-remote/missing',
  WFILE: '/podlink-remote/out/written.txt',
  /** Large enough to stream (first chunk, then 4 MiB chunks): see bigContent. */
  BIG: '/podlink-remote/big/big.bin',
  /** The same content, its chunks after the first held back until the snippet opens the gate. */
  BIG_GATED: '/podlink-remote/big/big-gated.bin',
  HOST: 'service-b',
  /** The target's hostname (PODLINK_HOSTNAME in snippetEnv). */
  POD_HOSTNAME: 'service-a-7d9f4b-x2v9q',
  HOST_FQDN: 'service-b.default.svc.cluster.local',
  HOST_IP: '10.77.0.10',
  MULTI_HOST: 'multi.podlink.test',
  TCP: '10.77.0.10:8080',
  TCP_REFUSED: '10.77.0.99:81',
  UDP: '10.77.0.11:5353',
} as const;

/** A greeting line, then an echo: enough to prove which remote a connection reached. */
function greetAndEcho(sock: net.Socket, remote: Addr): void {
  sock.write(`hello from ${remote.ip}:${remote.port}\n`);
  sock.pipe(sock);
}

/** A tiny HTTP/1.1 server for curl, node fetch and java: answers every request with one body. */
function http(body: string) {
  return (sock: net.Socket, remote: Addr): void => {
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const text = `${body} (via ${remote.ip}:${remote.port})\n`;
      sock.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    });
  };
}

/** The large remote file: 9 MiB and a bit, each byte a function of its offset. */
export function bigContent(): Buffer {
  const b = Buffer.allocUnsafe(9 * 1024 * 1024 + 12_345);
  for (let i = 0; i < b.length; i++) b[i] = (i ^ (i >>> 8) ^ (i >>> 17)) & 0xff;
  return b;
}
const big = bigContent();

export function scenarioTable(extra: Partial<ScriptedTable> = {}): ScriptedTable {
  return {
    files: {
      [T.BIG]: { data: big },
      [T.BIG_GATED]: { data: big, gated: true },
      [T.FILE]: { data: T.FILE_CONTENT, mode: 0o640, mtimeSec: 1_700_000_123 },
      '/podlink-remote/app/data/blob.bin': { data: Buffer.from([0, 1, 2, 255]) },
      '/etc/resolv.conf': { data: 'nameserver 10.77.0.53\nsearch default.svc.cluster.local\n' },
    },
    dirs: ['/podlink-remote/app/data', '/podlink-remote/out'],
    links: { [T.LINK]: 'config.txt' },
    names: {
      [T.HOST]: { canonical: T.HOST_FQDN, addrs: [T.HOST_IP] },
      [T.HOST_FQDN]: { canonical: T.HOST_FQDN, addrs: [T.HOST_IP] },
      [T.MULTI_HOST]: { canonical: T.MULTI_HOST, addrs: ['10.77.0.20', 'fd00:77::21', '10.77.0.22'] },
    },
    tcp: { [T.TCP]: greetAndEcho, '10.77.0.10:80': http('hello over http') },
    udp: { [T.UDP]: (msg) => Buffer.concat([Buffer.from('echo:'), msg]) },
    ...extra,
  };
}

/** PL_T_* variables the C snippets read, plus the config that makes WFILE writable remotely. */
export function snippetEnv(localOut: string): Record<string, string> {
  return {
    PL_T_FILE: T.FILE,
    PL_T_DIR: T.DIR,
    PL_T_LINK: T.LINK,
    PL_T_MISSING: T.MISSING,
    PL_T_WFILE: T.WFILE,
    PL_T_BIG: T.BIG,
    PL_T_BIG_GATED: T.BIG_GATED,
    PL_T_HOST: T.HOST,
    PL_T_TCP: T.TCP,
    PL_T_TCP_REFUSED: T.TCP_REFUSED,
    PL_T_UDP: T.UDP,
    PL_T_LOCAL_OUT: localOut,
    PODLINK_FS_READ_WRITE: '^/podlink-remote/out/',
    PODLINK_HOSTNAME: T.POD_HOSTNAME,
  };
}

/**
 * The environment of an incoming snippet: incoming on, the app listening at `app`; `mapped`:
 * listen_ports moves `app` to `local` (both harnesses, layer-snippets and supervisor-snippets).
 */
export function incomingSnippetEnv(mode: 'plain' | 'mapped', app: number, local: number): Record<string, string> {
  const env: Record<string, string> = { PODLINK_INCOMING: '1', PL_T_LISTEN_PORT: String(app), PL_T_LISTEN_LOCAL: String(local) };
  if (mode === 'mapped') env['PODLINK_LISTEN_PORTS'] = `${app}:${local}`;
  return env;
}
