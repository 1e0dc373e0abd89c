/**
 * The podlink release this code belongs to (package.json's `version`), carried in every Hello so that
 * a CLI and an agent image of different releases can name each other. The agent image ships
 * package.json next to its dist/ for this.
 */
import fs from 'node:fs';

function readBuild(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '';
  } catch {
    return '';
  }
}

export const PODLINK_BUILD = readBuild();
