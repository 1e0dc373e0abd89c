/**
 * The supervisor stands in for the program towards whoever started it: it exits with the program's
 * status or dies by its signal, and passes on the signals a parent sends. And it never leaves a served
 * program running unserved: if the supervisor is killed, the program dies with it, and a descendant
 * that outlives both gets ENOSYS from every call the filter would have sent us — never the local file.
 * Driven directly against the scripted intproxy (and, for the hand-over, the layer in a shell).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { supervisorBinary } from '../../common/paths.js';
import { T, runUnderLayer, scenarioTable } from '../helpers/layer-run.js';
import { needFile } from '../helpers/need.js';
import { ScriptedIntproxy } from '../helpers/scripted-intproxy.js';

describe('supervisor lifecycle', () => {
  let proxy: ScriptedIntproxy;
  let busybox: string;
  let dir: string;
  before(async () => {
    busybox = needFile('/bin/busybox', 'busybox-static');
    proxy = await ScriptedIntproxy.start(scenarioTable());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-life-'));
  });
  after(async () => {
    await proxy.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function start(script: string, stdio: ('pipe' | 'ignore' | number)[] = ['ignore', 'pipe', 'pipe']) {
    const child = spawn(supervisorBinary, ['run', busybox, '--', 'sh', '-c', script], {
      env: { PATH: '/usr/bin:/bin', PODLINK_SOCK: proxy.sockPath },
      stdio,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const closed = new Promise<void>((r) => child.once('close', () => r()));
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      for (let i = 0; !ok(); i++) {
        if (i > 1000) throw new Error(`never: ${what} (stdout ${stdout}, stderr ${stderr})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { child, exited, closed, until, out: () => stdout, err: () => stderr };
  }

  it('should be what a hooked parent runs for a static child; with no supervisor there, the child does not run and the layer says why', async () => {
    const script = `${busybox} echo ran; echo "status $?"`;
    const served = await runUnderLayer('sh', ['-c', script], { sock: proxy.sockPath, env: { PODLINK_SUPERVISOR: supervisorBinary } });
    assert.deepEqual([served.code, served.stdout, served.stderr], [0, 'ran\nstatus 0\n', '']);
    const missing = '/nonexistent/podlink-supervisor';
    const broken = await runUnderLayer('sh', ['-c', script], { sock: proxy.sockPath, env: { PODLINK_SUPERVISOR: missing } });
    assert.equal(broken.stdout, 'status 127\n');
    assert.equal(broken.stderr.split('\n')[0], `podlink: cannot serve ${busybox} (a static or Go program): the podlink supervisor ${missing} cannot run (errno 2)`);
  });

  it('should exit with the program status, and die by the signal that killed it', async () => {
    assert.deepEqual(await start('exit 7').exited, { code: 7, signal: null });
    assert.deepEqual(await start('kill -TERM $$').exited, { code: null, signal: 'SIGTERM' });
  });

  it('should pass the signals its parent sends on to the program', async () => {
    const p = start(`trap 'echo got TERM; exit 3' TERM; echo ready; while :; do ${busybox} sleep 0.05; done`);
    await p.until('the program is ready', () => p.out().includes('ready'));
    p.child.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 3, signal: null });
    assert.equal(p.out(), 'ready\ngot TERM\n');
  });

  it('should take the program down with it, and leave a survivor only ENOSYS, never the local call', async () => {
    // The survivor waits on a fifo it opened while the supervisor lived (opening it later is a call
    // the filter would send us). We hold the writing end.
    const fifo = path.join(dir, 'go');
    fs.rmSync(fifo, { force: true });
    execFileSync('mkfifo', [fifo]);
    const w = fs.openSync(fifo, fs.constants.O_RDWR);
    try {
      const p = start(`(exec 3<${fifo}; echo started; read x <&3; ${busybox} cat ${T.FILE}; echo "status=$?") & wait`);
      await p.until('the survivor started', () => p.out().includes('started'));
      p.child.kill('SIGKILL');
      assert.deepEqual(await p.exited, { code: null, signal: 'SIGKILL' });
      fs.writeSync(w, 'go\n');
      await p.closed; // the survivor held stdout and stderr: it is done
      assert.equal(p.out(), 'started\nstatus=1\n');
      assert.match(p.err(), new RegExp(`cat: can't open '${T.FILE}': Function not implemented`));
    } finally {
      fs.closeSync(w);
    }
  });
});
