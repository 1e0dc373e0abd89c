/**
 * The layer's C snippets (layer/test/snippets/) run under the supervisor instead of the layer — no
 * LD_PRELOAD, the same scripted intproxy, the same expectations as test/unit/layer-snippets.test.ts —
 * so the two paths are held to one behaviour: the C epoll client (a non-blocking connect waited for
 * with epoll; the registration's data comes back, writable, never a transient hang-up), poll and
 * select, kernel-exact connect outcomes, getpeername, UDP relays with sources mapped back, and the
 * file calls, and listen_ports (a bind moved, getsockname showing the port asked for). Cases that test the layer's libc machinery (fopen buffering, the DIR registry, hook
 * start-up from a constructor, write-back) are the layer's alone; DNS through getaddrinfo needs a
 * real nameserver under the supervisor (glibc's resolver asks it itself) and is proven end to end in
 * the integration tests.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot, supervisorBinary } from '../../common/paths.js';
import { LAYER_TEST_BIN, T, incomingSnippetEnv, keyValues, runUnderLayer, scenarioTable, snippetEnv } from '../helpers/layer-run.js';
import { freePort } from '../helpers/ports.js';
import { INCOMING_CLIENT_IP } from '../helpers/scripted-intproxy.js';
import { ScriptedIntproxy } from '../helpers/scripted-intproxy.js';

// The layer's expectations (layer-snippets.test.ts), for the cases both paths serve.
const CONTENT = 'remote config|line2|';
const FILE_STAT = 'size:20 mode:100640 mtime:1700000123';
const LINK_STAT = 'size:10 mode:120777 mtime:1700000000';
const ENOENT = 'ERR:No such file or directory';
const LISTING = 'config.txt,data,current,';
const waitCase = { ok_first: 'EINPROGRESS', ready: '1', revents_out: '1', so_error: '0', greeting: `hello from ${T.TCP}` };
const selectCase = { ...waitCase, aliased_first: 'EINPROGRESS', aliased_ready: '1', aliased_bit: '0' };
const udpCase = (reply: string) => ({ reply: `echo:${reply}`, from: T.UDP });
const dupCase = { peer_dup: T.TCP, peer_after_close_orig: T.TCP, greeting: `hello from ${T.TCP}` };
const statCase = (follow: boolean) => ({ remote: FILE_STAT, link: follow ? FILE_STAT : LINK_STAT, missing: ENOENT, root_is_dir: '1' });

/** listen_ports: the app asks for APP_PORT, the supervisor binds LOCAL_PORT (incomingSnippetEnv 'mapped'). */
const APP_PORT = await freePort();
const LOCAL_PORT = await freePort();
const DELIVERED = `hello from ${INCOMING_CLIENT_IP}:40000`;
const mapped = new Set(['bind', 'getsockname']);

const cases: Record<string, Record<string, string>> = {
  // The snippet's raw getsockname is served too (the layer's bypasses its hook): it shows APP_PORT;
  // the delivery to LOCAL_PORT is what proves the bind moved.
  bind: { bind: '0', listen: '0', kernel_port: String(APP_PORT), delivered: DELIVERED, udp_bind: '0', udp_kernel_port: String(APP_PORT) },
  getsockname: { bind: '0', listen: '0', rc: '0', name: `127.0.0.1:${APP_PORT}`, accepted_name: `127.0.0.1:${LOCAL_PORT}`, client_port_is_its_own: '1' },
  epoll_ctl: { ...waitCase, epoll_ctl: '0' },
  epoll_wait: { ...waitCase, epoll_ctl: '0' },
  epoll_pwait: { ...waitCase, epoll_ctl: '0' },
  poll: waitCase,
  ppoll: waitCase,
  select: selectCase,
  pselect: selectCase,
  connect: { peer: T.TCP, greeting: `hello from ${T.TCP}`, peer6: `::ffff:${T.TCP}`, greeting6: `hello from ${T.TCP}`, refused: 'Connection refused' },
  getpeername: { peer: T.TCP, full_len: '16', unconnected: 'ERR:Transport endpoint is not connected' },
  getsockopt: {
    ok_first: 'EINPROGRESS', so_error: '0', peer: T.TCP, again1: '0', again2: 'ERR:Transport endpoint is already connected',
    greeting: `hello from ${T.TCP}`, refused_first: 'EINPROGRESS', refused_so_error: 'Connection refused',
    refused_again: 'ERR:Software caused connection abort',
  },
  dup: dupCase,
  dup3: dupCase,
  fcntl: dupCase,
  sendto: udpCase('ping'),
  recvfrom: udpCase('hi'),
  sendmsg: udpCase('msg'),
  recvmsg: udpCase('one'),
  open: { remote: CONTENT, missing: ENOENT, local_write: '6', local_back: 'local|' },
  openat: { remote: CONTENT, dirfd_absolute: CONTENT, relative_local: ENOENT },
  stat: statCase(true),
  lstat: statCase(false),
  fstatat: { remote: FILE_STAT, nofollow: LINK_STAT, empty_path: FILE_STAT },
  statx: { remote: 'size:20 mode:100640 mtime:1700000123 basic:1', missing: 'No such file or directory' },
  access: { remote: '0', missing: ENOENT },
  // glibc's gethostname asks uname: both come from the uname the supervisor answers.
  gethostname: { name: T.POD_HOSTNAME, small: 'File name too long serv' },
  uname: { uname: '0', nodename: T.POD_HOSTNAME, sysname: 'Linux' },
  faccessat: { remote: '0', missing: ENOENT },
  readlink: { remote: 'config.txt', truncated: 'con n=3', not_link: 'Invalid argument' },
  readlinkat: { remote: 'config.txt' },
  opendir: { remote: LISTING, missing: ENOENT },
  readdir: { remote: LISTING, closedir: '0', local_real: '1' },
  scandir: { remote: '5:.,..,config.txt,current,data,', missing: 'No such file or directory' },
  fdopendir: { rdonly: LISTING, rdonly_closedir: '0', directory: LISTING, directory_closedir: '0', file_as_dir: 'Not a directory', local: '1' },
  fork: { parent_before: CONTENT, child: CONTENT, parent_after: CONTENT },
  // io_uring_setup fails in the filter itself; the snippet's write-back file is refused (read-only).
  syscall: { statx: 'size:20', io_uring_setup: 'Function not implemented', gettid_ok: '1', write: 'ERR:Bad file descriptor' },
};
/** What a case prints on stderr (nothing, unless listed). */
const stderrOf: Record<string, string> = {
  syscall:
    `podlink: ${path.join(LAYER_TEST_BIN, 'main_syscall')} opened the remote file ${T.WFILE} for writing: the supervisor serves remote ` +
    'files read-only, so such opens fail with EROFS (feature.fs read_write and mode write need the layer)\n',
};
/** Cases the supervisor answers from the session's environment alone. */
const answeredLocally = new Set(['gethostname', 'uname']);
/** The snippet execs /bin/cat (dynamic, not preloaded): the filter serves it, as every descendant. */
const execs = ['execve', 'execvp', 'posix_spawn'];

describe('layer snippets under the supervisor (the same scenarios, no LD_PRELOAD)', () => {
  let tmp: string;
  before(() => {
    assert.ok(fs.existsSync(supervisorBinary), `${supervisorBinary} is missing: npm run build`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-snippets-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('sendmmsg to a remote (libuv sends queued datagrams so): both relayed, replies from the remote', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const bin = path.join(packageRoot, 'supervisor', 'build', 'test', 'sendmmsg');
      const r = await runUnderLayer(supervisorBinary, ['run', bin, '--', bin], { noLayer: true, env: { PL_T_UDP: T.UDP, PODLINK_SOCK: proxy.sockPath }, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `sent=2 lens=3,3\nreply=echo:one from=${T.UDP}\nreply=echo:two from=${T.UDP}\n`);
    } finally {
      await proxy.close();
    }
  });

  it('keeps the epoll registration and socket options made before a non-blocking connect (the same socket)', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    try {
      const bin = path.join(packageRoot, 'supervisor', 'build', 'test', 'optsfirst');
      const r = await runUnderLayer(supervisorBinary, ['run', bin, '--', bin], { noLayer: true, env: { PL_T_TCP: T.TCP, PODLINK_SOCK: proxy.sockPath }, timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        'connect=EINPROGRESS\nready=1 data=feed out=1 hup=0\nso_error=0\nsame_socket=1 keepalive=1 nodelay=1 nonblock=1\n' + `greeting=hello from ${T.TCP}\n`,
      );
    } finally {
      await proxy.close();
    }
  });

  for (const name of [...Object.keys(cases), ...execs]) {
    it(name, async () => {
      const proxy = await ScriptedIntproxy.start(scenarioTable());
      try {
        const bin = path.join(LAYER_TEST_BIN, `main_${name}`);
        const r = await runUnderLayer(supervisorBinary, ['run', bin, '--', bin], {
          noLayer: true,
          env: {
            ...snippetEnv(path.join(tmp, `${name}.txt`)), PODLINK_SOCK: proxy.sockPath, PODLINK_FS_LOCAL_PREFIXES: `${packageRoot}\n${os.homedir()}`,
            ...(mapped.has(name) ? incomingSnippetEnv('mapped', APP_PORT, LOCAL_PORT) : {}),
          },
          timeoutMs: 20_000,
        });
        const detail = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
        assert.equal(r.timedOut, false, `timed out\n${detail}`);
        assert.equal(r.code, 0, detail);
        assert.equal(r.stderr, stderrOf[name] ?? '', detail);
        if (execs.includes(name)) {
          assert.ok(r.stdout.includes('remote config\nline2\n'), detail);
          return;
        }
        const kv = keyValues(r.stdout);
        for (const [k, v] of Object.entries(cases[name]!)) assert.equal(kv.get(k), v, `${k}\n${detail}`);
        // The hostname comes with the session's environment: nothing to ask the intproxy.
        if (!answeredLocally.has(name)) assert.equal(proxy.hellos.some((h) => h.name === 'podlink-supervisor'), true, `the supervisor said Hello: ${JSON.stringify(proxy.hellos)}`);
      } finally {
        await proxy.close();
      }
    });
  }
});
