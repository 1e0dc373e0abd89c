/**
 * Deliberate CPU load for stress tests: busy-looping processes, so the layer's threads and the app's
 * are preempted at arbitrary instructions (the interleavings a quiet machine rarely shows). Each test
 * stops its own load; the processes are also killed if the test process exits first.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CpuLoad {
  stop(): void;
}

export function startCpuLoad(processes: number): CpuLoad {
  const kids: ChildProcess[] = [];
  for (let i = 0; i < processes; i++) kids.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  const stop = (): void => {
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
    process.off('exit', stop);
  };
  process.on('exit', stop);
  return { stop };
}

/** Sums "scenario=NAME runs=R bad=B" lines (layer/test/programs/pollrace.c) over several runs. */
export function pollraceTotals(outputs: string[]): Map<string, { runs: number; bad: number }> {
  const m = new Map<string, { runs: number; bad: number }>();
  for (const out of outputs)
    for (const [, name, runs, bad] of out.matchAll(/^scenario=(\S+) runs=(\d+) bad=(\d+)$/gm)) {
      const t = m.get(name!) ?? { runs: 0, bad: 0 };
      t.runs += Number(runs);
      t.bad += Number(bad);
      m.set(name!, t);
    }
  return m;
}
