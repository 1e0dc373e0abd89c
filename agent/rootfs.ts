/**
 * Paths as the target sees them. The agent reads the target's files through `/proc/PID/root`, but the
 * kernel resolves an absolute symlink met on the way against the *agent's* root, not the target's
 * (`/etc/localtime -> /usr/share/zoneinfo/UTC` would open the agent's zoneinfo). So symlinks are
 * walked here, one component at a time, re-rooting absolute targets under the target's root — what
 * openat2(RESOLVE_IN_ROOT) does, which Node cannot call.
 *
 * The walk uses synchronous lstat/readlink: each takes microseconds, far less than a round trip
 * through libuv's thread pool, and every remote file call of the user's process waits on it.
 */
import fs from 'node:fs';
import { E } from '../common/errno.js';

const MAX_LINKS = 40;

function fsError(code: 'ELOOP' | 'EINVAL', path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${path}`);
  err.code = code;
  err.errno = -E[code];
  return err;
}

/**
 * The path on the agent's side for `path` inside a root. With `followLast` false the last component is
 * not followed (lstat, readlink). A missing component ends the walk: the caller's own call then fails
 * with the right errno.
 */
export function resolveInRoot(root: string, path: string, followLast: boolean): string {
  if (!path.startsWith('/')) throw fsError('EINVAL', path);
  if (root === '/') {
    // Our own root: the kernel's resolution is already the target's.
    return path;
  }
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, name];
    const isLast = pending.length === 0;
    if (isLast && !followLast) return join(root, candidate);
    const st = fs.lstatSync(join(root, candidate), { throwIfNoEntry: false });
    if (!st) return join(root, [...candidate, ...pending]);
    if (!st.isSymbolicLink()) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_LINKS) throw fsError('ELOOP', path);
    const target = fs.readlinkSync(join(root, candidate));
    if (target.startsWith('/')) resolved = [];
    pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return join(root, resolved);
}

function join(root: string, parts: string[]): string {
  return `${root}/${parts.join('/')}`;
}
