/**
 * Layer behaviour beyond single hooks: inert without PODLINK_SOCK, fast failures when the agent or the
 * intproxy is gone, the path routing rules and fs modes, the feature switches, and no syscall added on
 * the local path.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requireTool } from '../helpers/requirements.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScriptedIntproxy, type ScriptedTable } from '../helpers/scripted-intproxy.js';
import { LAYER_LIB, LAYER_TEST_BIN, T, keyValues, runUnderLayer, scenarioTable, snippetEnv, type RunOptions } from '../helpers/layer-run.js';

const CONTENT = 'remote config|line2|';
const ENOENT = 'ERR:No such file or directory';

let tmp: string;
let localDir: string; // outside every built-in local prefix, so routing decides
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-behaviour-'));
  localDir = fs.mkdtempSync('/var/podlink-layer-test-');
  fs.writeFileSync(path.join(localDir, 'local.txt'), 'local only\n');
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(localDir, { recursive: true, force: true });
});

/** Runs one snippet (main harness) against a scripted intproxy built from `table`. */
async function snippet(name: string, env: Record<string, string | undefined> = {}, table: ScriptedTable = scenarioTable(), opts: RunOptions = {}) {
  const proxy = await ScriptedIntproxy.start(table);
  try {
    const r = await runUnderLayer(path.join(LAYER_TEST_BIN, `main_${name}`), [], {
      sock: proxy.sockPath,
      timeoutMs: 20_000,
      ...opts,
      env: { ...snippetEnv(path.join(tmp, `${name}.txt`)), ...env },
    });
    const detail = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.timedOut, false, `timed out: ${detail}`);
    return { kv: keyValues(r.stdout), proxy, detail, r };
  } finally {
    await proxy.close();
  }
}

describe('layer: inert without PODLINK_SOCK', () => {
  it('passes every call through and never connects', async () => {
    const { kv, proxy, detail } = await snippet('open', { PODLINK_SOCK: undefined });
    assert.equal(kv.get('remote'), ENOENT, detail);
    assert.equal(kv.get('local_back'), 'local|', detail);
    assert.equal(proxy.hellos.length, 0);
    const st = await snippet('stat', { PODLINK_SOCK: undefined });
    assert.equal(st.kv.get('remote'), ENOENT, st.detail);
    assert.equal(st.proxy.requests.length, 0);
  });

  // The layer's set-up runs before libc's own initialisation (-z initfirst), when it cannot setenv;
  // its syscall hook refuses io_uring_setup instead, and children always get UV_USE_IO_URING=0.
  it('leaves UV_USE_IO_URING alone when passive; when active, children get UV_USE_IO_URING=0 even from an emptied environment', async () => {
    const script =
      "process.stdout.write(require('child_process').execFileSync('/bin/sh', ['-c', 'echo $UV_USE_IO_URING'], { env: {} }).toString())";
    const passive = await runUnderLayer(process.execPath, ['-e', script]);
    assert.equal(passive.stdout, '\n');
    const active = await runUnderLayer(process.execPath, ['-e', script], { sock: '/nonexistent/podlink.sock' });
    assert.equal(active.stdout, '0\n');
  });
});

describe('layer: failures are fast and precise', () => {
  const expectGone = (kv: Map<string, string>, detail: string) => {
    assert.equal(kv.get('before_open'), 'Input/output error', detail);
    assert.equal(kv.get('before_stat'), 'Input/output error', detail);
    assert.equal(kv.get('before_getaddrinfo'), 'EAI_AGAIN', detail);
    assert.equal(kv.get('before_connect'), 'Connection refused', detail);
  };

  it('agent gone (Error EHOSTDOWN): EIO for files, EAI_AGAIN for names, ECONNREFUSED for connect', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable({ agentGone: true }));
    try {
      const r = await runUnderLayer(path.join(LAYER_TEST_BIN, 'prog_dies'), [], { sock: proxy.sockPath, env: snippetEnv(tmp), timeoutMs: 20_000 });
      assert.equal(r.timedOut, false);
      expectGone(keyValues(r.stdout), r.stdout + r.stderr);
    } finally {
      await proxy.close();
    }
  });

  it('threads share the connection pool while another thread forks: every answer right', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const r = await runUnderLayer(path.join(LAYER_TEST_BIN, 'prog_threads'), [], { sock: proxy.sockPath, env: snippetEnv(tmp), timeoutMs: 60_000 });
      assert.equal(r.timedOut, false, r.stdout + r.stderr);
      assert.equal(keyValues(r.stdout).get('wrong'), '0', r.stdout + r.stderr);
      // The parent is the process whose pid the fork children name as their parent.
      const parent = proxy.hellos.find((h) => proxy.hellos.some((c) => c.ppid === h.pid))!;
      const fromParent = proxy.hellos.filter((h) => h.pid === parent.pid).length;
      assert.ok(fromParent > 1 && fromParent <= 16, `parallel connections from the parent: ${fromParent}`);
      assert.equal(new Set(proxy.hellos.filter((h) => h.ppid === parent.pid).map((h) => h.pid)).size, 10, 'each fork child said Hello');
    } finally {
      await proxy.close();
    }
  });

  it('a pooled connection the intproxy closed is dropped and the request retried once on a fresh one', async () => {
    const { kv, proxy, detail } = await snippet('stat', {}, scenarioTable({ hangUpAfterAnswer: true }));
    assert.equal(kv.get('remote'), 'size:20 mode:100640 mtime:1700000123', detail);
    assert.equal(kv.get('link'), 'size:20 mode:100640 mtime:1700000123', detail);
    assert.equal(kv.get('missing'), 'ERR:No such file or directory', detail);
    assert.equal(kv.get('root_is_dir'), '1', detail);
    assert.ok(proxy.hellos.length >= 4, `one connection per request: ${proxy.hellos.length}`);
  });

  it('intproxy unreachable: the same errors', async () => {
    const r = await runUnderLayer(path.join(LAYER_TEST_BIN, 'prog_dies'), [], { sock: path.join(tmp, 'nobody.sock'), env: snippetEnv(tmp), timeoutMs: 20_000 });
    assert.equal(r.timedOut, false);
    expectGone(keyValues(r.stdout), r.stdout + r.stderr);
  });

  it('intproxy dies mid-session: working calls, then errors, never a hang', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    const marker = path.join(tmp, 'proxy-killed');
    let phase1Done!: () => void;
    const waiting = new Promise<void>((resolve) => (phase1Done = resolve));
    const run = runUnderLayer(path.join(LAYER_TEST_BIN, 'prog_dies'), [marker], {
      sock: proxy.sockPath,
      env: snippetEnv(tmp),
      timeoutMs: 20_000,
      onStdout: (out) => out.includes('waiting\n') && phase1Done(),
    });
    // The program says `waiting` once phase 1 is over; then kill the intproxy and release it.
    await Promise.race([waiting, run]);
    proxy.kill();
    fs.writeFileSync(marker, '');
    const r = await run;
    await proxy.close();
    assert.equal(r.timedOut, false, r.stdout + r.stderr);
    const kv = keyValues(r.stdout);
    assert.equal(kv.get('before_open'), 'ok', r.stdout);
    assert.equal(kv.get('before_getaddrinfo'), 'ok', r.stdout);
    assert.equal(kv.get('before_connect'), 'ok', r.stdout);
    assert.equal(kv.get('after_open'), 'Input/output error', r.stdout);
    assert.equal(kv.get('after_stat'), 'Input/output error', r.stdout);
    assert.equal(kv.get('after_getaddrinfo'), 'EAI_AGAIN', r.stdout);
    assert.equal(kv.get('after_connect'), 'Connection refused', r.stdout);
  });
});

describe('layer: path routing and fs modes', () => {
  it('read mode: a path the target lacks falls back to the local file', async () => {
    const local = path.join(localDir, 'local.txt');
    const { kv, proxy, detail } = await snippet('open', { PL_T_FILE: local });
    assert.equal(kv.get('remote'), 'local only|', detail);
    assert.ok(proxy.seen('ReadFile').some((m) => m.path === local), 'the target was asked first');
  });

  it('read_only match is authoritative: ENOENT from the target even though the file exists locally', async () => {
    const local = path.join(localDir, 'local.txt');
    const { kv, detail } = await snippet('open', { PL_T_FILE: local, PODLINK_FS_READ_ONLY: `^${localDir}/` });
    assert.equal(kv.get('remote'), ENOENT, detail);
  });

  it('mode local: nothing goes to the target', async () => {
    const { kv, proxy, detail } = await snippet('open', { PODLINK_FS_MODE: 'local' });
    assert.equal(kv.get('remote'), ENOENT, detail);
    assert.equal(proxy.seen('ReadFile').length, 0);
  });

  it('localwithoverrides: local unless a read_only regex matches (case-insensitive); DNS files stay remote', async () => {
    const plain = await snippet('open', { PODLINK_FS_MODE: 'localwithoverrides' });
    assert.equal(plain.kv.get('remote'), ENOENT, plain.detail);
    assert.equal(plain.proxy.seen('ReadFile').length, 0);
    const over = await snippet('open', { PODLINK_FS_MODE: 'localwithoverrides', PODLINK_FS_READ_ONLY: '^/PODLINK-REMOTE/APP/' });
    assert.equal(over.kv.get('remote'), CONTENT, over.detail);
    const resolv = await snippet('open', { PODLINK_FS_MODE: 'localwithoverrides', PL_T_FILE: '/etc/resolv.conf' });
    assert.equal(resolv.kv.get('remote'), 'nameserver 10.77.0.53|search default.svc.cluster.local|', resolv.detail);
    const dnsOff = await snippet('open', { PODLINK_FS_MODE: 'localwithoverrides', PODLINK_DNS: '0', PL_T_FILE: '/etc/resolv.conf' });
    // With remote DNS off the resolver files are this machine's own (first 4095 bytes, lines joined by `|`).
    assert.equal(dnsOff.kv.get('remote'), fs.readFileSync('/etc/resolv.conf', 'utf8').slice(0, 4095).replace(/\n/g, '|'), dnsOff.detail);
    assert.equal(dnsOff.proxy.seen('ReadFile').filter((m) => m.path === '/etc/resolv.conf').length, 0);
  });

  it('not_found wins over everything and asks nobody', async () => {
    const { kv, proxy, detail } = await snippet('open', { PODLINK_FS_NOT_FOUND: 'CONFIG\\.txt$', PODLINK_FS_READ_ONLY: '^/podlink-remote/' });
    assert.equal(kv.get('remote'), ENOENT, detail);
    assert.equal(proxy.seen('ReadFile').filter((m) => m.path === T.FILE).length, 0);
  });

  it('a user local regex keeps a path local', async () => {
    const { kv, proxy, detail } = await snippet('stat', { PODLINK_FS_LOCAL: '^/podlink-remote/app/config' });
    assert.equal(kv.get('remote'), ENOENT, detail);
    assert.equal(proxy.seen('Stat').filter((m) => m.path === T.FILE).length, 0);
  });

  it('built-in local paths, local prefixes (cwd, $HOME), the exe install prefix and local suffixes never reach the target', async () => {
    const home = process.env['HOME'] ?? '/root';
    const exePrefix = path.dirname(LAYER_TEST_BIN); // main_stat lives in <prefix>/test/
    const paths = [
      '/tmp/x', '/usr/lib/x', '/etc/passwd', '/proc/self/status', '/var/tmp/x', '/opt/x',
      `${localDir}/sub/x`, `${home}/podlink-x`, `${exePrefix}/zzz`,
      '/podlink-remote/app/x.py', '/podlink-remote/node_modules/a/b.json', '/podlink-remote/lib/libfoo.so.1.2', '/podlink-remote/A.class',
    ];
    for (const p of paths) {
      const { proxy, detail } = await snippet('stat', { PL_T_FILE: p, PL_T_LINK: p, PL_T_MISSING: p }, scenarioTable(), { cwd: localDir });
      assert.equal(proxy.seen('Stat').filter((m) => m.path === p).length, 0, `${p} was asked remotely\n${detail}`);
    }
    // ...and a path outside all of them is asked.
    const { proxy } = await snippet('stat', { PL_T_FILE: '/srv/podlink-x' }, scenarioTable(), { cwd: localDir });
    assert.equal(proxy.seen('Stat').filter((m) => m.path === '/srv/podlink-x').length, 1);
  });

  it('write mode: an O_TRUNC open goes to a memfd written back on close; read mode keeps it local', async () => {
    const out = '/podlink-remote/app/new.txt';
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const r = await runUnderLayer('curl', ['-sS', '-o', out, `file://${T.FILE}`], { sock: proxy.sockPath, env: { PODLINK_FS_MODE: 'write' }, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(proxy.written.get(out)?.toString(), T.FILE_CONTENT);
      assert.equal(proxy.seen('WriteFile')[0]?.truncate, true);
      const readMode = await runUnderLayer('curl', ['-sS', '-o', out, `file://${T.FILE}`], { sock: proxy.sockPath, timeoutMs: 20_000 });
      // In read mode the write is local, and /podlink-remote does not exist here: curl's write error.
      assert.equal(readMode.code, 23, readMode.stderr);
      assert.equal(proxy.seen('WriteFile').length, 1);
    } finally {
      await proxy.close();
    }
  });

  it('exit() without close still writes remote files back (fd and stdio stream)', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const r = await runUnderLayer(path.join(LAYER_TEST_BIN, 'prog_exit_writeback'), [], { sock: proxy.sockPath, env: snippetEnv(tmp), timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(proxy.written.get(T.WFILE)?.toString(), 'unclosed fd\n');
      assert.equal(proxy.written.get(`${T.WFILE}.stdio`)?.toString(), 'unclosed stream\n');
    } finally {
      await proxy.close();
    }
  });

  it('relative paths stay local', async () => {
    const { kv, detail } = await snippet('openat');
    assert.equal(kv.get('relative_local'), ENOENT, detail);
  });
});

describe('layer: DNS results and debug output', () => {
  it('getaddrinfo chains one glibc list per address; glibc freeaddrinfo frees it cleanly (valgrind)', async () => {
    requireTool('valgrind');
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const r = await runUnderLayer('valgrind', ['-q', '--error-exitcode=42', '--leak-check=full', '--errors-for-leak-kinds=definite', path.join(LAYER_TEST_BIN, 'main_getaddrinfo')], {
        sock: proxy.sockPath,
        env: { ...snippetEnv(tmp), PL_T_HOST: T.MULTI_HOST },
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, `valgrind found errors:\n${r.stderr}`);
      const addrs = r.stdout.split('\n').filter((l) => l.startsWith('addr=')).map((l) => l.slice(5));
      assert.deepEqual(addrs, ['10.77.0.20:80', 'fd00:77::21:80', '10.77.0.22:80'], r.stdout);
      assert.equal(keyValues(r.stdout).get('canon'), T.MULTI_HOST);
    } finally {
      await proxy.close();
    }
  });

  it('is silent by default and explains each decision with PODLINK_DEBUG=1', async () => {
    const quiet = await snippet('open');
    assert.equal(quiet.r.stderr, '');
    const loud = await snippet('open', { PODLINK_DEBUG: '1' });
    assert.match(loud.r.stderr, /^podlink: open: remote \/podlink-remote\/app\/config\.txt -> fd \d+$/m);
    assert.match(loud.r.stderr, /^podlink: open: bypass remote_enoent \(\/podlink-remote\/missing\)$/m);
    assert.match(loud.r.stderr, /^podlink: open: bypass builtin_local \(\/tmp\//m);
  });
});

describe('layer: its own descriptors', () => {
  // A threaded program resolves a name, then lists which of its descriptors are sockets.
  const program = `
import os, socket, threading, resource, sys
if len(sys.argv) > 1: resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]),) * 2)
t = threading.Thread(target=lambda: print('addr=' + socket.getaddrinfo('${T.HOST}', 80, socket.AF_INET)[0][4][0]))
t.start(); t.join()
def link(f):
  try: return os.readlink('/proc/self/fd/' + f)
  except OSError: return ''  # the listing's own descriptor, closed by now
socks = [int(f) for f in os.listdir('/proc/self/fd') if int(f) > 2 and link(f).startswith('socket:')]
print('socks=' + ','.join(map(str, sorted(socks))))
`;
  const run = async (limitArgs: string[]) => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const r = await runUnderLayer('sh', ['-c', 'ulimit -n 4096 && exec python3 -c "$0" "$@"', program, ...limitArgs], { sock: proxy.sockPath, timeoutMs: 20_000 });
      const kv = keyValues(r.stdout);
      return { addr: kv.get('addr'), socks: (kv.get('socks') ?? '').split(',').filter(Boolean).map(Number), detail: `stdout:\n${r.stdout}\nstderr:\n${r.stderr}` };
    } finally {
      await proxy.close();
    }
  };

  it('sit just under the fd limit the program started with, out of the way of the low numbers', async () => {
    const { addr, socks, detail } = await run([]);
    assert.equal(addr, T.HOST_IP, detail);
    assert.ok(socks.length > 0, detail);
    for (const fd of socks) assert.ok(fd >= 4096 - 400 && fd < 4096, `fd ${fd} not just under 4096: ${detail}`);
  });

  it('stay where the kernel put them when the program lowered its limit below that place', async () => {
    const { addr, socks, detail } = await run(['256']);
    assert.equal(addr, T.HOST_IP, detail);
    assert.ok(socks.length > 0 && socks.every((fd) => fd < 256), detail);
  });
});

describe('layer: feature switches', () => {
  it('PODLINK_HOSTNAME empty (feature.hostname off, or no name in the target): the real hostname', async () => {
    const { kv, detail } = await snippet('uname', { PODLINK_HOSTNAME: '' });
    assert.equal(kv.get('nodename'), os.hostname(), detail);
    const named = await snippet('gethostname');
    assert.equal(named.kv.get('name'), T.POD_HOSTNAME, named.detail);
  });

  it('PODLINK_DNS=0 resolves locally', async () => {
    const { proxy, detail } = await snippet('getaddrinfo', { PODLINK_DNS: '0', PL_T_HOST: 'localhost.' });
    assert.equal(proxy.seen('Resolve').length, 0, detail);
  });

  it('loopback stays local unless PODLINK_IGNORE_LOCALHOST=0; PODLINK_OUTGOING_TCP=0 keeps it local again', async () => {
    const table = scenarioTable({ tcp: { '127.0.0.1:9': (s, remote) => s.end(`hello from ${remote.ip}:${remote.port}\n`) } });
    const local = await snippet('connect', { PL_T_TCP: '127.0.0.1:9' }, table);
    assert.equal(local.kv.get('connect'), 'ERR:Connection refused', local.detail);
    assert.equal(local.proxy.seen('Connect').length, 0);
    const remote = await snippet('connect', { PL_T_TCP: '127.0.0.1:9', PODLINK_IGNORE_LOCALHOST: '0' }, table);
    assert.equal(remote.kv.get('greeting'), 'hello from 127.0.0.1:9', remote.detail);
    assert.equal(remote.kv.get('peer'), '127.0.0.1:9', remote.detail);
    const off = await snippet('connect', { PL_T_TCP: '127.0.0.1:9', PODLINK_IGNORE_LOCALHOST: '0', PODLINK_OUTGOING_TCP: '0' }, table);
    assert.equal(off.kv.get('connect'), 'ERR:Connection refused', off.detail);
    assert.equal(off.proxy.seen('Connect').length, 0);
  });

  it('PODLINK_OUTGOING_UDP=0 sends datagrams as they are', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable({ udp: { '127.0.0.1:9': (m) => m } }));
    try {
      // Nothing answers on 127.0.0.1:9, so the snippet waits for a reply until it is killed.
      const r = await runUnderLayer(path.join(LAYER_TEST_BIN, 'main_sendto'), [], {
        sock: proxy.sockPath,
        timeoutMs: 2000,
        env: { ...snippetEnv(tmp), PL_T_UDP: '127.0.0.1:9', PODLINK_IGNORE_LOCALHOST: '0', PODLINK_OUTGOING_UDP: '0' },
      });
      assert.equal(keyValues(r.stdout).get('sendto'), '4', r.stdout + r.stderr);
      assert.equal(proxy.seen('Connect').length, 0);
    } finally {
      await proxy.close();
    }
  });
});

describe('layer: the local path adds no syscall', () => {
  /** Per-syscall call counts from `strace -f -c`. */
  function counts(n: number, withLayer: boolean): Map<string, number> {
    const out = path.join(tmp, `strace-${n}-${withLayer}.txt`);
    const env = withLayer ? ['-E', `LD_PRELOAD=${LAYER_LIB}`, '-E', `PODLINK_SOCK=${path.join(tmp, 'unused.sock')}`] : [];
    const r = spawnSync('strace', ['-f', '-c', '-o', out, ...env, path.join(LAYER_TEST_BIN, 'prog_localwork'), String(n)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = new Map<string, number>();
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 5 && /^\d+$/.test(f[3]!) && f[f.length - 1] !== 'total') m.set(f[f.length - 1]!, Number(f[3]));
    }
    return m;
  }

  it('each extra iteration of open/fstat/read/close/stat/access/statx/opendir/fopen costs the same syscalls with the layer', () => {
    requireTool('strace', ['-V']);
    const delta = (a: Map<string, number>, b: Map<string, number>) => {
      const names = new Set([...a.keys(), ...b.keys()]);
      return Object.fromEntries([...names].sort().map((k) => [k, (b.get(k) ?? 0) - (a.get(k) ?? 0)]).filter(([, v]) => v !== 0));
    };
    const base = delta(counts(50, false), counts(150, false));
    const layer = delta(counts(50, true), counts(150, true));
    assert.deepEqual(layer, base);
    assert.ok((base['openat'] ?? 0) >= 300, JSON.stringify(base));
  });
});
