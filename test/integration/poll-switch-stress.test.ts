/**
 * The switch of a background connect is invisible to real waiters with the real intproxy and agent, under
 * CPU load (layer/README.md, "No waiter sees the switch"): layer/test/programs/pollrace.c against pod B's
 * HTTP service, APR's ab (epoll; it reads on a hang-up and fails with ENOTCONN) and curl's multi
 * interface (poll; it takes a hang-up for a failed connect). Every wait, request and transfer must
 * succeed. Needs root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LAYER_TEST_BIN } from '../helpers/layer-run.js';
import { PORTS, podlinkExec, startPodServices } from '../helpers/matrix.js';
import { needProgram } from '../helpers/need.js';
import { pollraceTotals, startCpuLoad, type CpuLoad } from '../helpers/cpu-load.js';
import { createWorld, type World } from '../helpers/world.js';

describe('real programs: no waiter sees a background connect switch its socket (under CPU load)', () => {
  let world: World;
  let load: CpuLoad | undefined;

  before(async () => {
    world = await createWorld();
    await startPodServices(world);
    load = startCpuLoad(3);
  });
  after(async () => {
    load?.stop();
    await world?.destroy();
  });

  it('poll, select and epoll waits of pollrace.c: zero transient events', async () => {
    const r = await podlinkExec(world, world.podA.pid, [`${LAYER_TEST_BIN}/prog_pollrace`, `${world.podB.ip}:${PORTS.http}`, '60'], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const totals = pollraceTotals([r.stdout]);
    assert.equal(totals.size, 9, r.stdout);
    for (const [name, t] of totals) assert.equal(t.bad, 0, `${name}: ${t.bad} of ${t.runs}\n${r.stdout}\n${r.stderr}`);
  });

  it('ab: 400 requests, 8 at a time, none failed', async () => {
    needProgram('ab', 'apache2-utils');
    const r = await podlinkExec(world, world.podA.pid, ['ab', '-n', '400', '-c', '8', `http://${world.serviceB.short}:${PORTS.http}/ab`], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^Complete requests:\s+400$/m);
    assert.match(r.stdout, /^Failed requests:\s+0$/m);
  });

  it('curl --parallel: 200 transfers, 8 at a time, all answered', async () => {
    needProgram('curl', 'curl');
    const url = `http://${world.serviceB.short}:${PORTS.http}/curl`;
    const args = ['-sS', '--parallel', '--parallel-max', '8', '-w', '%{http_code}\\n'];
    for (let i = 0; i < 200; i++) args.push('-o', '/dev/null', url);
    const r = await podlinkExec(world, world.podA.pid, ['curl', ...args], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const codes = r.stdout.trim().split('\n');
    assert.equal(codes.length, 200, r.stdout);
    assert.deepEqual([...new Set(codes)], ['200'], r.stdout);
  });
});
