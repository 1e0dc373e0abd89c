/** Find the user's command before anything is started, so a typo costs nothing. */
import fs from 'node:fs';
import path from 'node:path';
import { PodlinkError } from './errors.js';

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The absolute path of `cmd` as execvp would find it in `PATH`. */
export function findCommand(cmd: string, pathVar: string | undefined, cwd: string): string {
  if (cmd.includes('/')) {
    const abs = path.resolve(cwd, cmd);
    if (executable(abs)) return abs;
    throw new PodlinkError('command_not_found', `command not found: ${cmd}`, 'check the path and that it is executable', 127);
  }
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const candidate = path.resolve(cwd, dir || '.', cmd);
    if (executable(candidate)) return candidate;
  }
  throw new PodlinkError('command_not_found', `command not found: ${cmd}`, 'check the name, or give its full path', 127);
}
