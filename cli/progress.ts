/**
 * The short progress tree shown while a session starts (resolving target → starting agent → agent
 * ready → environment fetched), on stderr so the user's stdout stays theirs. A live tree on a
 * terminal, plain lines otherwise, nothing with --quiet. Failures are reported once, by the caller.
 */
import { Listr, ListrLogger, ListrLogLevels, ProcessOutput } from 'listr2';

/** Leaves a failure for the caller's one error line instead of printing it a second time. */
class ProgressLogger extends ListrLogger {
  override log(level: string, message: string | unknown[], options?: Parameters<ListrLogger['log']>[2]): void {
    if (level === ListrLogLevels.FAILED) return;
    super.log(level, message, options);
  }
}

export interface Step<Ctx> {
  title: string;
  /** Do the work; `done(title)` replaces the step's title with what it found. */
  run(ctx: Ctx, done: (title: string) => void): Promise<void>;
}

export async function runSteps<Ctx extends object>(ctx: Ctx, steps: Step<Ctx>[], quiet: boolean): Promise<Ctx> {
  const renderer = quiet ? 'silent' : process.stderr.isTTY ? 'default' : 'simple';
  const logger = new ProgressLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  // listr2's option types are keyed on the renderer chosen at compile time; ours is chosen at run time.
  const list = new Listr<Ctx>(
    steps.map((s) => ({
      title: s.title,
      task: async (c: Ctx, task: { title: string }) => s.run(c, (title) => (task.title = title)),
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
