/**
 * What the agent serves from: the target's root directory and environment. For a `pid/PID` target
 * (and a pod's container, found by its host PID) that is /proc/PID; targetless, the agent's own.
 */
import fs from 'node:fs/promises';

export interface Target {
  /** Root of the target's filesystem as the agent reaches it. */
  root: string;
  describe: string;
  environ(): Promise<{ name: string; value: string }[]>;
}

export function pidTarget(pid: number): Target {
  return {
    root: `/proc/${pid}/root`,
    describe: `pid/${pid}`,
    async environ() {
      const raw = await fs.readFile(`/proc/${pid}/environ`);
      return parseEnviron(raw);
    },
  };
}

export function ownTarget(): Target {
  return { root: '/', describe: 'targetless', environ: async () => [] };
}

/** NUL-separated NAME=VALUE pairs; a value may contain '='. */
export function parseEnviron(raw: Buffer): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const entry of raw.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) out.push({ name: entry.slice(0, eq), value: entry.slice(eq + 1) });
  }
  return out;
}
