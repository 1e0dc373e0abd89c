/**
 * One C snippet per hooked function (layer/test/snippets/), each run under LD_PRELOAD against the
 * scripted intproxy by two harnesses: from main(), and from another shared library's constructor —
 * which runs before the layer's own constructor, so the layer must initialise itself on first use.
 * Every snippet prints what it saw; the expectations below check content, not exit codes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INCOMING_CLIENT_IP, ScriptedIntproxy } from '../helpers/scripted-intproxy.js';
import { freePort } from '../helpers/ports.js';
import { LAYER_TEST_BIN, T, bigContent, incomingSnippetEnv, keyValues, runUnderLayer, scenarioTable, snippetEnv } from '../helpers/layer-run.js';

const CONTENT = 'remote config|line2|';
const FILE_STAT = 'size:20 mode:100640 mtime:1700000123';
const LINK_STAT = 'size:10 mode:120777 mtime:1700000000';
const ENOENT = 'ERR:No such file or directory';
const LISTING = 'data,config.txt,current,';

type Expect = Record<string, string | RegExp>;
interface Case {
  expect: Expect;
  /** Content the target must hold at T.WFILE afterwards. */
  written?: string;
  /** The snippet execs: its stdout must contain this (from the hooked child). */
  stdoutHas?: string;
  /** Incoming on (PODLINK_INCOMING=1), the app listening at APP_PORT; `mapped`: listen_ports APP_PORT → LOCAL_PORT. */
  incoming?: 'plain' | 'mapped';
}

const statCase = (follow: boolean): Case => ({
  expect: { remote: FILE_STAT, link: follow ? FILE_STAT : LINK_STAT, missing: ENOENT, root_is_dir: '1' },
});
const xstatCase = (follow: boolean): Case => ({ expect: { remote: FILE_STAT, link: follow ? FILE_STAT : LINK_STAT } });
const dupCase: Case = {
  expect: { peer_dup: T.TCP, peer_after_close_orig: T.TCP, greeting: `hello from ${T.TCP}` },
};
/** A non-blocking remote connect waited for with poll/ppoll/select/pselect. */
const waitCase: Case = { expect: { ok_first: 'EINPROGRESS', ready: '1', revents_out: '1', so_error: '0', greeting: `hello from ${T.TCP}` } };
/** select and pselect also answer one set passed for writing and exceptions as the kernel does. */
const selectCase: Case = { expect: { ...waitCase.expect, aliased_first: 'EINPROGRESS', aliased_ready: '1', aliased_bit: '0' } };
const udpCase = (reply: string): Case => ({ expect: { reply: `echo:${reply}`, from: T.UDP } });
const execCase: Case = { expect: {}, stdoutHas: 'remote config\nline2\n' };
const openCase: Case = { expect: { remote: CONTENT, missing: ENOENT, local_write: '6', local_back: 'local|' } };
const openatCase: Case = { expect: { remote: CONTENT, dirfd_absolute: CONTENT, relative_local: ENOENT } };
const fopenCase: Case = { expect: { remote: 'remote config', fclose: '0', missing: 'No such file or directory' } };
const accessCase: Case = { expect: { remote: '0', missing: ENOENT } };
/** Reads of the large remote file while it streams in: its bytes, in hex. */
const big = bigContent();
const hex = (at: number): string => big.subarray(at, at + 16).toString('hex');
const TAIL = hex(big.length - 16);
const tailCase: Case = { expect: { tail: TAIL } };
const pvCase: Case = { expect: { tail: TAIL, tail_current: TAIL } };

/** The incoming snippets' ports: the one the app listens on, and where listen_ports moves it. */
const APP_PORT = await freePort();
const LOCAL_PORT = await freePort();
const CLIENT = `${INCOMING_CLIENT_IP}:40000`;
const DELIVERED = `hello from ${CLIENT}`;
const listening = { bind: '0', listen: '0' };

const cases: Record<string, Case> = {
  open: openCase,
  open64: openCase,
  openat: openatCase,
  openat64: openatCase,
  __open_2: { expect: { remote: CONTENT } },
  __open64_2: { expect: { remote: CONTENT } },
  __openat_2: { expect: { remote: CONTENT } },
  __openat64_2: { expect: { remote: CONTENT } },
  creat: { expect: { local_write: '8', local_back: 'created|' } },
  creat64: { expect: { remote_write: '12', close: '0' }, written: 'via creat64\n' },
  fopen: fopenCase,
  fopen64: fopenCase,
  fclose: { expect: { fclose: '0' }, written: 'via stdio\n' },
  stat: statCase(true),
  lstat: statCase(false),
  stat64: statCase(true),
  lstat64: statCase(false),
  fstatat: { expect: { remote: FILE_STAT, nofollow: LINK_STAT, empty_path: /^size:20 mode:100640 mtime:1700000123$/ } },
  fstatat64: { expect: { remote: FILE_STAT, nofollow: LINK_STAT, empty_path: /^size:20 mode:100640/ } },
  __xstat: xstatCase(true),
  __xstat64: xstatCase(true),
  __lxstat: xstatCase(false),
  __lxstat64: xstatCase(false),
  __fxstatat: { expect: { remote: FILE_STAT } },
  __fxstatat64: { expect: { remote: FILE_STAT } },
  statx: { expect: { remote: 'size:20 mode:100640 mtime:1700000123 basic:1', missing: 'No such file or directory' } },
  access: accessCase,
  gethostname: { expect: { name: T.POD_HOSTNAME, small: 'File name too long serv' } },
  uname: { expect: { uname: '0', nodename: T.POD_HOSTNAME, sysname: 'Linux' } },
  euidaccess: accessCase,
  eaccess: accessCase,
  faccessat: accessCase,
  readlink: { expect: { remote: 'config.txt', truncated: 'con n=3', not_link: 'Invalid argument' } },
  readlinkat: { expect: { remote: 'config.txt' } },
  opendir: { expect: { remote: LISTING, missing: ENOENT } },
  readdir: { expect: { remote: LISTING, closedir: '0', local_real: '1' } },
  readdir64: { expect: { remote: LISTING } },
  readdir_r: { expect: { remote: `.,..,${LISTING}` } },
  readdir64_r: { expect: { remote: `.,..,${LISTING}` } },
  closedir: { expect: { closedir: '0', closedir_local: '0' } },
  fdopendir: {
    expect: {
      rdonly: LISTING, rdonly_dirfd_is_fd: '1', rdonly_closedir: '0', rdonly_fd_closed: '1',
      directory: LISTING, directory_closedir: '0', directory_fd_closed: '1',
      file_as_dir: 'Not a directory', local: '1',
    },
  },
  dirfd: { expect: { remote: 'Operation not supported', local: '1' } },
  rewinddir: { expect: { counts: '5,5' } },
  telldir: { expect: { same_after_seekdir: '1' } },
  seekdir: { expect: { past_end: 'end', start: 'entry' } },
  scandir: { expect: { remote: '5:.,..,config.txt,current,data,', missing: 'No such file or directory' } },
  scandir64: { expect: { remote: '5:.,..,config.txt,current,data,' } },
  close: {
    expect: { before: CONTENT, after_closing_everything: CONTENT, write: '10', close_writeback: '0' },
    written: 'via close\n',
  },
  close_range: { expect: { before: CONTENT, close_range: '0', after: CONTENT } },
  dup: dupCase,
  dup2: { expect: { ...dupCase.expect, found_layer_fd: '1', dup2_onto_layer: '1', remote_after: CONTENT } },
  dup3: dupCase,
  fcntl: dupCase,
  fcntl64: dupCase,
  syscall: {
    expect: { statx: 'size:20', io_uring_setup: 'Function not implemented', gettid_ok: '1', write: '18', sys_close: '0' },
    written: 'via syscall close\n',
  },
  connect: {
    expect: {
      peer: T.TCP,
      greeting: `hello from ${T.TCP}`,
      peer6: `::ffff:${T.TCP}`,
      greeting6: `hello from ${T.TCP}`,
      refused: 'Connection refused',
    },
  },
  getpeername: { expect: { peer: T.TCP, full_len: '16', unconnected: 'ERR:Transport endpoint is not connected' } },
  getsockopt: {
    expect: {
      ok_first: 'EINPROGRESS', so_error: '0', peer: T.TCP, again1: '0', again2: 'ERR:Transport endpoint is already connected',
      greeting: `hello from ${T.TCP}`, refused_first: 'EINPROGRESS', refused_so_error: 'Connection refused',
      refused_again: 'ERR:Software caused connection abort',
    },
  },
  poll: waitCase,
  ppoll: waitCase,
  select: selectCase,
  pselect: selectCase,
  epoll_ctl: { expect: { ...waitCase.expect, epoll_ctl: '0' } },
  epoll_wait: { expect: { ...waitCase.expect, epoll_ctl: '0' } },
  epoll_pwait: { expect: { ...waitCase.expect, epoll_ctl: '0' } },
  sendto: udpCase('ping'),
  recvfrom: udpCase('hi'),
  sendmsg: udpCase('msg'),
  recvmsg: udpCase('one'),
  getaddrinfo: {
    expect: {
      addr: `${T.HOST_IP}:80`,
      canon: T.HOST_FQDN,
      count: '1',
      mapped: `::ffff:${T.HOST_IP}:53`,
      missing: 'EAI_NONAME',
      localhost: 'local',
    },
  },
  gethostbyname: { expect: { remote: `${T.HOST_FQDN} ${T.HOST_IP}`, missing: 'ERR:h_errno 1' } },
  gethostbyname2: { expect: { remote: `${T.HOST_FQDN} ${T.HOST_IP}` } },
  gethostbyname_r: { expect: { rc: '0', remote: `${T.HOST_FQDN} ${T.HOST_IP}`, small_buffer: 'ERANGE' } },
  gethostbyname2_r: { expect: { rc: '0', remote: `${T.HOST_FQDN} ${T.HOST_IP}` } },
  execve: execCase,
  execv: execCase,
  execvp: execCase,
  execvpe: execCase,
  execl: execCase,
  execlp: execCase,
  execle: execCase,
  posix_spawn: { ...execCase, expect: { status: '0' } },
  posix_spawnp: { ...execCase, expect: { status: '0' } },
  fork: { expect: { parent_before: CONTENT, child: CONTENT, parent_after: CONTENT } },
  read: { expect: { size: String(big.length), head: hex(0), mid: hex(5 * 1024 * 1024 + 3), tail: TAIL, eof: '0' } },
  __read_chk: tailCase,
  readv: tailCase,
  pread: tailCase,
  pread64: tailCase,
  __pread_chk: tailCase,
  __pread64_chk: tailCase,
  preadv: tailCase,
  preadv64: tailCase,
  preadv2: pvCase,
  preadv64v2: pvCase,
  mmap: tailCase,
  mmap64: tailCase,
  lseek: { expect: { data: '0', hole_at_end: '1', tail: TAIL } },
  lseek64: { expect: { data: '0', hole_at_end: '1', tail: TAIL } },
  sendfile: tailCase,
  sendfile64: tailCase,
  splice: tailCase,
  copy_file_range: tailCase,
  fdopen: tailCase,
  listen: { incoming: 'plain', expect: { ...listening, delivered: DELIVERED, peer: CLIENT, local_peer_loopback: '1' } },
  accept: { incoming: 'plain', expect: { ...listening, from: CLIENT, len: '16', delivered: DELIVERED, local_from_loopback: '1' } },
  accept4: { incoming: 'plain', expect: { ...listening, from: CLIENT, cloexec: '1', nonblock: '1', peer: CLIENT, greeting: DELIVERED } },
  bind: {
    incoming: 'mapped',
    expect: { ...listening, kernel_port: String(LOCAL_PORT), delivered: DELIVERED, udp_bind: '0', udp_kernel_port: String(APP_PORT) },
  },
  getsockname: {
    incoming: 'mapped',
    expect: {
      ...listening, rc: '0', name: `127.0.0.1:${APP_PORT}`, accepted_name: `127.0.0.1:${LOCAL_PORT}`, client_port_is_its_own: '1',
    },
  },
};

function incomingEnv(c: Case): Record<string, string> {
  return c.incoming ? incomingSnippetEnv(c.incoming, APP_PORT, LOCAL_PORT) : {};
}

describe('layer snippets (one per hooked function, two harnesses)', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-snippets-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('has a snippet for every case and a case for every snippet', () => {
    const built = fs.readdirSync(LAYER_TEST_BIN).filter((f) => f.startsWith('main_')).map((f) => f.slice(5));
    assert.deepEqual([...built].sort(), Object.keys(cases).sort());
  });

  for (const [name, c] of Object.entries(cases)) {
    for (const harness of ['main', 'ctor'] as const) {
      it(`${name} (${harness})`, async () => {
        const proxy = await ScriptedIntproxy.start(scenarioTable());
        try {
          const localOut = path.join(tmp, `${name}-${harness}.txt`);
          const r = await runUnderLayer(path.join(LAYER_TEST_BIN, `${harness}_${name}`), [], {
            sock: proxy.sockPath,
            env: { ...snippetEnv(localOut), PL_T_GATE: proxy.gate, ...incomingEnv(c) },
            timeoutMs: 20_000,
          });
          const detail = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
          assert.equal(r.timedOut, false, `timed out\n${detail}`);
          assert.equal(r.code, 0, detail);
          const kv = keyValues(r.stdout);
          if (harness === 'ctor') assert.equal(kv.get('harness'), 'ctor', detail);
          for (const [k, v] of Object.entries(c.expect)) {
            const got = kv.get(k);
            if (v instanceof RegExp) assert.match(got ?? '', v, `${k}\n${detail}`);
            else assert.equal(got, v, `${k}\n${detail}`);
          }
          if (c.written !== undefined) assert.equal(proxy.written.get(T.WFILE)?.toString(), c.written, detail);
          if (c.stdoutHas !== undefined) {
            assert.ok(r.stdout.includes(c.stdoutHas), detail);
            assert.ok(proxy.hellos.some((h) => h.name === 'cat'), `the exec'd child registered: ${JSON.stringify(proxy.hellos)}`);
          }
          if (['sendto', 'recvfrom', 'sendmsg', 'recvmsg'].includes(name)) {
            // Closing the UDP socket releases its relay (no answer expected: wait for it to arrive).
            for (let i = 0; i < 100 && proxy.seen('Release').length === 0; i++) await new Promise((res) => setTimeout(res, 10));
            assert.equal(proxy.seen('Release').length, 1, `Release after close\n${detail}`);
          }
          if (c.incoming) {
            // The app's port is announced once, as the port it asked for at the address it really has.
            const port = c.incoming === 'mapped' ? LOCAL_PORT : APP_PORT;
            assert.deepEqual(proxy.seen('Listen').map((m) => [m.port, m.local.ip, m.local.port]), [[APP_PORT, '127.0.0.1', port]], detail);
            for (let i = 0; i < 100 && proxy.seen('Unlisten').length === 0; i++) await new Promise((res) => setTimeout(res, 10));
            assert.deepEqual(proxy.seen('Unlisten').map((m) => m.local.port), [port], `Unlisten after close\n${detail}`);
          }
          if (name === 'fork') {
            const [parent, child] = [proxy.hellos[0], proxy.hellos.find((h) => h.ppid === proxy.hellos[0]?.pid)];
            assert.ok(parent && child, `the fork child said Hello naming its parent: ${JSON.stringify(proxy.hellos)}`);
          }
        } finally {
          await proxy.close();
        }
      });
    }
  }
});
