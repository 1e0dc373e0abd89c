/**
 * Which programs need the supervisor: `podlink-supervisor check` classifies an executable with
 * layer/src/exec_kind.c — the code the layer's exec hooks run before handing a child over — so the
 * CLI and a hooked parent decide alike. Static (no PT_INTERP) and Go (the Go linker's build id note,
 * with or without cgo) need it; dynamic programs and scripts of dynamic interpreters do not.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { choosePath } from '../../cli/program-path.js';
import type { PodlinkError } from '../../cli/errors.js';
import { supervisorBinary } from '../../common/paths.js';
import { buildGo } from '../helpers/go-build.js';
import { needFile } from '../helpers/need.js';

const check = (p: string): unknown => JSON.parse(execFileSync(supervisorBinary, ['check', p], { encoding: 'utf8' }));

describe('podlink-supervisor check', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-kind-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should send Go programs to the supervisor, with or without cgo', () => {
    assert.deepEqual(check(buildGo('goprobe', dir, false)), { kind: 'go', supervisor: true, available: true });
    assert.deepEqual(check(buildGo('goprobe', dir, true)), { kind: 'go-cgo', supervisor: true, available: true });
  });

  it('should send static programs (no program interpreter) to the supervisor, and scripts they interpret', () => {
    const busybox = needFile('/bin/busybox', 'busybox-static');
    assert.deepEqual(check(busybox), { kind: 'static', supervisor: true, available: true });
    const script = path.join(dir, 'script');
    fs.writeFileSync(script, `#!${busybox} sh\necho hi\n`, { mode: 0o755 });
    assert.deepEqual(check(script), { kind: 'static', supervisor: true, available: true });
  });

  it('should leave dynamic programs and their scripts to the layer', () => {
    assert.deepEqual(check('/bin/sh'), { kind: 'dynamic', supervisor: false });
    assert.deepEqual(check(process.execPath), { kind: 'dynamic', supervisor: false });
    const script = path.join(dir, 'dyn-script');
    fs.writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    assert.deepEqual(check(script), { kind: 'dynamic', supervisor: false });
  });

  it('should name 32-bit programs, which neither path serves, and the CLI refuse them in one line', () => {
    const elf32 = path.join(dir, 'elf32');
    const head = Buffer.alloc(52);
    head.write('\x7fELF', 0, 'latin1');
    head[4] = 1; // ELFCLASS32
    head[5] = 1;
    fs.writeFileSync(elf32, head, { mode: 0o755 });
    assert.deepEqual(check(elf32), { kind: 'elf32', supervisor: false });
    assert.throws(() => choosePath(elf32, undefined), (e: PodlinkError) => {
      assert.equal(e.code, 'program_unsupported');
      assert.equal(e.message, `cannot serve ${elf32}: it is a 32-bit program, and podlink's layer and supervisor serve 64-bit programs only`);
      return true;
    });
  });

  it('should choose the path the kind asks for, or the one PODLINK_EXEC_PATH forces', () => {
    assert.deepEqual(choosePath('/bin/sh', undefined), { path: 'layer', kind: 'dynamic', reason: 'a dynamic program' });
    assert.equal(choosePath('/bin/sh', 'supervisor').path, 'supervisor');
    const busybox = needFile('/bin/busybox', 'busybox-static');
    assert.deepEqual(choosePath(busybox, undefined), { path: 'supervisor', kind: 'static', reason: 'a static program: it bypasses libc' });
    assert.equal(choosePath(busybox, 'layer').path, 'layer');
  });

  it('should call anything else unknown, and let exec report it', () => {
    const text = path.join(dir, 'text');
    fs.writeFileSync(text, 'not a program\n');
    assert.deepEqual(check(text), { kind: 'unknown', supervisor: false });
    assert.deepEqual(check(path.join(dir, 'missing')), { kind: 'unknown', supervisor: false });
  });
});
