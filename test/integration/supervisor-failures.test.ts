/**
 * Issue 18, item 3: when the supervisor cannot serve a program, podlink says so in one line and runs
 * nothing half-served — for the command itself (the CLI refuses before anything starts) and for a
 * static child that a hooked parent starts (the supervisor refuses to run it; the parent sees it fail).
 * Three causes, each made real: another seccomp notify supervisor above us (a helper that holds a
 * listener: EBUSY), a kernel without user notification (a helper whose filter makes seccomp(2) fail
 * with EINVAL, as Linux before 5.0 does), and a program that makes itself non-dumpable under an
 * unprivileged supervisor (its calls can no longer be read: they fail with EPERM, said once). Needs root.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { needFile } from '../helpers/need.js';
import { createWorld, type World } from '../helpers/world.js';

const cli = path.join(packageRoot, 'bin', 'podlink.js');
const helpers = path.join(packageRoot, 'supervisor', 'build', 'test');

describe('the supervisor fails loudly and safely', () => {
  let world: World;
  let dir: string;
  let busybox: string;

  before(async () => {
    busybox = needFile('/bin/busybox', 'busybox-static');
    for (const h of ['holdnotify', 'noseccomp', 'nondumpable']) needFile(path.join(helpers, h), 'the supervisor test helpers: make -C supervisor');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-fail-'));
    fs.chmodSync(dir, 0o755); // the unprivileged run below reads a file here
    world = await createWorld();
  });
  after(async () => {
    await world?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const exec = (wrapper: string[], command: string[]) =>
    world.runIn(world.laptop, wrapper[0] ?? process.execPath, [...wrapper.slice(1), ...(wrapper.length ? [process.execPath] : []), cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...command], {
      cwd: dir,
      timeoutMs: 60_000,
    });
  const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0);

  it('refuses a static program under another notify supervisor (EBUSY) in one line, before starting anything', async () => {
    const r = await exec([path.join(helpers, 'holdnotify')], [busybox, 'cat', world.targetFile.path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(lines(r.stderr), [
      `podlink: cannot serve ${busybox} (a static program, which bypasses the layer): another seccomp supervisor already watches this ` +
        "process tree (EBUSY) — a sandbox, a container runtime's notifier, or podlink's own supervisor — and Linux allows only one " +
        '(podlink cannot serve this program here; nothing was started)',
    ]);
  });

  it('refuses the static child of a hooked parent in one line; the parent sees it fail, nothing runs unserved', async () => {
    const r = await exec([path.join(helpers, 'holdnotify')], ['sh', '-c', `${busybox} cat ${world.targetFile.path}; echo "status $?"`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'status 125\n'); // the file was not read locally, nor at all
    assert.deepEqual(lines(r.stderr), [
      `podlink: cannot serve ${busybox} (a static program, which bypasses the layer): another seccomp supervisor already watches this ` +
        "process tree (EBUSY) — a sandbox, a container runtime's notifier, or podlink's own supervisor — and Linux allows only one",
    ]);
  });

  it('refuses a Go or static program when the kernel has no seccomp user notification', async () => {
    const r = await exec([path.join(helpers, 'noseccomp')], [busybox, 'true']);
    assert.equal(r.code, 1);
    const [line, ...rest] = lines(r.stderr);
    assert.deepEqual(rest, []);
    assert.match(line!, new RegExp(`^podlink: cannot serve ${busybox} \\(a static program, which bypasses the layer\\): the kernel refused a seccomp ` +
      'user-notification filter \\(Invalid argument\\): the supervisor needs Linux 5\\.14 or newer with seccomp \\(this is [^)]+\\) ' +
      '\\(podlink cannot serve this program here; nothing was started\\)$'));
  });

  it('says once that a non-dumpable program cannot be served any more, and its calls fail instead of running locally', async () => {
    // Unprivileged, as on a laptop (root may read any process). The file is local: readable before.
    const local = path.join(dir, 'local.txt');
    fs.writeFileSync(local, 'local\n');
    fs.chmodSync(local, 0o644);
    const prog = path.join(helpers, 'nondumpable');
    const r = await exec([], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', prog, local]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'before=ok\nafter=Operation not permitted\n');
    assert.match(r.stderr, /^podlink: cannot serve \S*\/nondumpable \(pid \d+\) any more: it made itself non-dumpable/);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
  });
});
