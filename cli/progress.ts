/**
 * The short progress tree shown while a session starts (config → target → agent pod → agent ready →
 * environment), on stderr so the user's stdout stays theirs: a live tree on a terminal, plain lines
 * otherwise, nothing with --quiet, and with `--output json` one JSON object per line for IDEs and
 * scripts. Every finished step shows how long it took. Failures are reported once, by the caller.
 */
import { Listr, ListrLogger, ListrLogLevels, ProcessOutput } from 'listr2';

export type OutputMode = 'tree' | 'quiet' | 'json';

/** Leaves a failure for the caller's one error line instead of printing it a second time. */
class ProgressLogger extends ListrLogger {
  override log(level: string, message: string | unknown[], options?: Parameters<ListrLogger['log']>[2]): void {
    if (level === ListrLogLevels.FAILED) return;
    super.log(level, message, options);
  }
}

export interface Step<Ctx> {
  /** Stable name of the step in JSON output (`target`, `agent-pod`, …). */
  id: string;
  title: string;
  /**
   * Do the work; `done(title)` replaces the step's title with what it found; `note(text)` shows
   * what it is waiting for meanwhile (e.g. "pulling image").
   */
  run(ctx: Ctx, done: (title: string) => void, note: (text: string) => void): Promise<void>;
}

/** One JSON line on stderr (`--output json`): `{"event":…, …}`. */
export function jsonEvent(event: string, fields: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ event, ...fields }) + '\n');
}

const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

async function runJson<Ctx extends object>(ctx: Ctx, steps: Step<Ctx>[]): Promise<Ctx> {
  for (const s of steps) {
    const t0 = Date.now();
    let message = s.title;
    jsonEvent('step', { step: s.id, status: 'started', message });
    try {
      await s.run(
        ctx,
        (title) => (message = title),
        (text) => jsonEvent('step', { step: s.id, status: 'progress', message: text }),
      );
    } catch (e) {
      jsonEvent('step', { step: s.id, status: 'failed', ms: Date.now() - t0 });
      throw e;
    }
    jsonEvent('step', { step: s.id, status: 'done', message, ms: Date.now() - t0 });
  }
  return ctx;
}

export async function runSteps<Ctx extends object>(ctx: Ctx, steps: Step<Ctx>[], mode: OutputMode): Promise<Ctx> {
  if (mode === 'json') return runJson(ctx, steps);
  const renderer = mode === 'quiet' ? 'silent' : process.stderr.isTTY ? 'default' : 'simple';
  const logger = new ProgressLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  // listr2's option types are keyed on the renderer chosen at compile time; ours is chosen at run time.
  const list = new Listr<Ctx>(
    steps.map((s) => ({
      title: s.title,
      task: async (c: Ctx, task: { title: string; output: string }) => {
        const t0 = Date.now();
        await s.run(
          c,
          (title) => (task.title = `${title} (${seconds(Date.now() - t0)})`),
          (text) => (task.output = text),
        );
      },
    })),
    {
      ctx,
      renderer,
      fallbackRenderer: 'simple',
      exitOnError: true,
      registerSignalListeners: false,
      collectErrors: false,
      rendererOptions: { logger, showErrorMessage: false, collapseErrors: false },
      fallbackRendererOptions: { logger },
    } as never,
  );
  return list.run();
}
