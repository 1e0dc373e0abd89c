/**
 * What it takes to serve a target (`pid/1234`, later `pod/web`, `deployment/api/container/app`): the
 * command that starts the agent inside the target's context.
 */
import fs from 'node:fs';
import { PodlinkError } from './errors.js';
import { agentEntry } from '../common/paths.js';

export interface PidTarget {
  kind: 'pid';
  pid: number;
  describe: string;
  /** The agent, started in the process's network namespace; it reads files through /proc/PID/root. */
  agentArgv: string[];
}

export type ResolvedTarget = PidTarget;

/** `path` is the config's normalised target (config/target.ts checked its form). */
export function resolveTarget(path: string | undefined): ResolvedTarget {
  if (path === undefined) {
    throw new PodlinkError(
      'targetless_unavailable',
      'targetless sessions run their agent in a Kubernetes cluster, which podlink exec cannot reach yet',
      'give a local process as the target: -t pid/PID',
    );
  }
  if (path.startsWith('pid/')) return pidTarget(Number(path.slice('pid/'.length)));
  throw new PodlinkError(
    'kube_unavailable',
    `Kubernetes targets (${path}) are not available yet in this version of podlink`,
    'use a local process as the target: -t pid/PID',
  );
}

function pidTarget(pid: number): PidTarget {
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
    agentArgv: ['nsenter', `--target=${pid}`, '--net', '--', process.execPath, agentEntry, '--pid', String(pid)],
  };
}
