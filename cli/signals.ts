/**
 * Signals during `podlink exec`. Installed before anything starts, so there is no moment when a
 * signal kills the CLI and strands what it started:
 *   - while the session starts, SIGINT/SIGTERM/SIGHUP abort the start-up (which then cleans up);
 *   - while the user's process runs, Ctrl-C is the process's own business (the terminal sends it to
 *     the whole foreground group, the process included), SIGTERM and SIGHUP are passed on to it.
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { PodlinkError } from './errors.js';

const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class ExecSignals {
  private readonly controller = new AbortController();
  private child: ChildProcess | undefined;
  private readonly handler = (sig: NodeJS.Signals): void => {
    if (this.child) {
      if (sig !== 'SIGINT') this.child.kill(sig);
      return;
    }
    this.controller.abort(new PodlinkError('interrupted', `interrupted by ${sig} while starting`, undefined, 128 + os.constants.signals[sig]));
  };

  constructor() {
    for (const sig of handled) process.on(sig, this.handler);
  }

  /** Aborted when a signal arrives before the user's process runs. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Reject with the abort reason once aborted: race it against any start-up step. */
  aborted(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.signal.aborted) reject(this.signal.reason);
      else this.signal.addEventListener('abort', () => reject(this.signal.reason), { once: true });
    });
  }

  /** From now on signals concern the user's process. */
  attach(child: ChildProcess): void {
    this.child = child;
  }

  dispose(): void {
    for (const sig of handled) process.off(sig, this.handler);
  }
}
