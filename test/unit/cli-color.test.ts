/**
 * Issue 13: `podlink exec --help | cat` printed colour codes. Colour only on a terminal; NO_COLOR turns
 * it off, FORCE_COLOR on. The built CLI is run with its output piped (not a terminal).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { colorDepth } from '../../cli/color.js';
import { packageRoot } from '../../common/paths.js';

const ESC = '\x1b[';

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PODLINK_|NO_COLOR|FORCE_COLOR)/.test(k)));
  return new Promise((resolve) =>
    execFile(process.execPath, [path.join(packageRoot, 'bin/podlink.js'), ...args], { env: { ...clean, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  );
}

describe('cli colour', () => {
  it('should print help without escape codes when stdout is a pipe', async () => {
    const r = await run(['exec', '--help'], {});
    assert.equal(r.code, 0);
    assert.match(r.stdout, /podlink exec/);
    assert.equal(r.stdout.includes(ESC), false, r.stdout.slice(0, 200));
  });

  it('should colour a pipe when FORCE_COLOR asks, and not when NO_COLOR is set too', async () => {
    assert.ok((await run(['exec', '--help'], { FORCE_COLOR: '1' })).stdout.includes(ESC));
    assert.equal((await run(['exec', '--help'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout.includes(ESC), false);
  });

  it('should print usage errors on a piped stderr without escape codes', async () => {
    const r = await run(['exec', '--no-such-flag'], {});
    assert.equal(r.code, 2);
    assert.ok(r.stderr.length > 0);
    assert.equal(r.stderr.includes(ESC), false, r.stderr);
  });

  it('should decide from the stream and the environment', () => {
    const tty = { isTTY: true, getColorDepth: () => 8 };
    const pipe = {};
    assert.equal(colorDepth(pipe, {}), 1);
    assert.equal(colorDepth(tty, {}), 8);
    assert.equal(colorDepth(tty, { NO_COLOR: '1' }), 1);
    assert.equal(colorDepth(tty, { NO_COLOR: '' }), 8); // empty NO_COLOR does not count (no-color.org)
    assert.equal(colorDepth(pipe, { FORCE_COLOR: '1' }), 4);
    assert.equal(colorDepth(pipe, { FORCE_COLOR: '' }), 4);
    assert.equal(colorDepth(pipe, { FORCE_COLOR: '3' }), 24);
    assert.equal(colorDepth(tty, { FORCE_COLOR: '0' }), 1);
    assert.equal(colorDepth(tty, { FORCE_COLOR: 'false' }), 1);
  });
});
