/**
 * A local process as the target (`pid/1234`): the command that starts the agent inside its context.
 * Kubernetes targets are resolved by kube/target.ts (cli/kube-launch.ts).
 */
import fs from 'node:fs';
import { PodlinkError } from './errors.js';
import { agentEntry } from '../common/paths.js';
import { relayNodeFlags } from '../link/node-flags.js';

export interface PidTarget {
  kind: 'pid';
  pid: number;
  describe: string;
  /** The agent, started in the process's network namespace; it reads files through /proc/PID/root. */
  agentArgv: string[];
}

/** `path` is the config's normalised `pid/PID` (config/target.ts checked its form). */
export function pidTarget(path: string): PidTarget {
  const pid = Number(path.slice('pid/'.length));
  if (!fs.existsSync(`/proc/${pid}/stat`)) {
    throw new PodlinkError('unknown_target', `unknown target pid/${pid}: no such process`, 'check the process id with `ps -e`');
  }
  if (process.getuid?.() !== 0) {
    throw new PodlinkError(
      'not_root',
      `target pid/${pid} needs root: the agent enters that process's network namespace`,
      'run podlink as root (sudo)',
    );
  }
  return {
    kind: 'pid',
    pid,
    describe: `pid/${pid}`,
    agentArgv: ['nsenter', `--target=${pid}`, '--net', '--', process.execPath, ...relayNodeFlags, agentEntry, '--pid', String(pid)],
  };
}
