/**
 * The move of a background connect's socket from its placeholder to its endpoint is never seen by a
 * waiter (layer/README.md, "No waiter sees the switch"). layer/test/programs/pollrace.c waits for
 * non-blocking remote connects in every way an app can — poll and select for writing or reading,
 * epoll level- and edge-triggered, EPOLLONESHOT, two epoll sets, a thread already asleep in epoll_wait,
 * registrations made before connect and racing with its completion — and counts every event a kernel
 * connect would not give (a hang-up, an error, RDHUP, nothing to read after "readable", a lost event).
 * Two copies run at once, against the scripted intproxy, while busy loops load both CPUs. Nothing is
 * timed: the assertion is that not one of the thousands of waits saw anything transient.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptedIntproxy } from '../helpers/scripted-intproxy.js';
import { LAYER_TEST_BIN, T, runUnderLayer, scenarioTable } from '../helpers/layer-run.js';
import { pollraceTotals, startCpuLoad } from '../helpers/cpu-load.js';

const ROUNDS = '150';
const COPIES = 2;

describe('layer: no waiter sees a background connect switch its socket', () => {
  it('poll, select and epoll waits under CPU load: zero transient events', async () => {
    const proxy = await ScriptedIntproxy.start(scenarioTable());
    const load = startCpuLoad(3);
    try {
      const runs = await Promise.all(
        Array.from({ length: COPIES }, () =>
          runUnderLayer(`${LAYER_TEST_BIN}/prog_pollrace`, [T.TCP, ROUNDS, 'greeting'], {
            sock: proxy.sockPath,
            env: { POLLRACE_VERBOSE: '1' },
            timeoutMs: 300_000,
          }),
        ),
      );
      for (const r of runs) assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      const totals = pollraceTotals(runs.map((r) => r.stdout));
      assert.equal(totals.size, 11, runs[0]!.stdout);
      const detail = runs.map((r) => r.stderr).join('');
      for (const [name, t] of totals) {
        assert.equal(t.runs, Number(ROUNDS) * COPIES, name);
        assert.equal(t.bad, 0, `${name}: ${t.bad} of ${t.runs} waits saw a transient\n${detail}`);
      }
    } finally {
      load.stop();
      await proxy.close();
    }
  });
});
