/**
 * What a test needs from the machine, checked so that the test FAILS naming what is missing, never
 * skips: scripts/setup.sh (run by .ci/run) installs every tool, and the suite runs as root.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export function requireRoot(why: string): void {
  assert.equal(process.getuid?.(), 0, `needs root (${why}): run the tests as root, as .ci/run does`);
}

/** `cmd versionArgs` must run and exit 0. */
export function requireTool(cmd: string, versionArgs = ['--version']): void {
  const r = spawnSync(cmd, versionArgs, { stdio: 'ignore' });
  assert.equal(r.error === undefined && r.status === 0, true, `${cmd} is not installed (scripts/setup.sh installs it)`);
}
