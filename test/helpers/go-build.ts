/**
 * Go programs the supervisor tests run, built by the test from test/fixtures/supervisor/ (never
 * committed as binaries): with CGO_ENABLED=0 (static, raw system calls only) or 1 (linked with libc,
 * yet its files and sockets still bypass it). The Go build cache keeps repeated builds fast. Fails —
 * never skips — when Go is missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../common/paths.js';

export const SUPERVISOR_FIXTURES = path.join(packageRoot, 'test', 'fixtures', 'supervisor');

function goBinary(): string {
  for (const p of [process.env['GO'], '/usr/local/go/bin/go', '/usr/lib/go/bin/go'].filter(Boolean) as string[]) if (fs.existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('go is not installed: the supervisor tests build Go programs (Go 1.24 or newer; scripts/setup.sh expects it)');
  }
}

/** Builds the Go module in test/fixtures/supervisor/<name> into dir; returns the binary's path. */
export function buildGo(name: string, dir: string, cgo: boolean): string {
  const out = path.join(dir, `${name}-${cgo ? 'cgo' : 'static'}`);
  execFileSync(goBinary(), ['build', '-o', out, '.'], {
    cwd: path.join(SUPERVISOR_FIXTURES, name),
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? os.homedir(),
      CGO_ENABLED: cgo ? '1' : '0',
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-trimpath',
      ...(process.env['GOCACHE'] ? { GOCACHE: process.env['GOCACHE'] } : {}),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return out;
}
