/**
 * Tests that run real third-party programs fail — never skip — when one is missing, naming the
 * Debian package that brings it (scripts/setup.sh installs them all).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export function needProgram(name: string, pkg: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: apt-get install ${pkg} (scripts/setup.sh installs it)`);
  }
}

export function needFile(file: string, pkg: string): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: apt-get install ${pkg} (scripts/setup.sh installs it)`);
  return file;
}
