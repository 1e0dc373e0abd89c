/** Paths inside the target resolve inside the target's root, absolute symlinks included. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveInRoot } from '../../agent/rootfs.js';

describe('resolveInRoot', () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-root-'));
    fs.mkdirSync(path.join(root, 'usr/share/zoneinfo'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/share/zoneinfo/UTC'), 'target-utc');
    fs.mkdirSync(path.join(root, 'etc'));
    fs.symlinkSync('/usr/share/zoneinfo/UTC', path.join(root, 'etc/localtime')); // absolute link
    fs.mkdirSync(path.join(root, 'cfg/..2025_01'), { recursive: true });
    fs.writeFileSync(path.join(root, 'cfg/..2025_01/app.yaml'), 'v: 1');
    fs.symlinkSync('..2025_01', path.join(root, 'cfg/..data')); // kubelet's configmap layout
    fs.symlinkSync('..data/app.yaml', path.join(root, 'cfg/app.yaml'));
    fs.symlinkSync('/loop', path.join(root, 'loop'));
    fs.symlinkSync('../../../../etc/localtime', path.join(root, 'etc/escape'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('re-roots an absolute symlink under the target root', () => {
    const p = resolveInRoot(root, '/etc/localtime', true);
    assert.equal(fs.readFileSync(p, 'utf8'), 'target-utc');
  });

  it('follows the configmap ..data relative links', () => {
    assert.equal(fs.readFileSync(resolveInRoot(root, '/cfg/app.yaml', true), 'utf8'), 'v: 1');
  });

  it('does not follow the last component for lstat/readlink', () => {
    assert.equal(resolveInRoot(root, '/etc/localtime', false), `${root}/etc/localtime`);
  });

  it('cannot climb out of the root with ..', () => {
    assert.equal(fs.readFileSync(resolveInRoot(root, '/etc/escape', true), 'utf8'), 'target-utc');
    assert.equal(resolveInRoot(root, '/../../etc', false), `${root}/etc`);
  });

  it('stops a symlink loop with ELOOP', () => {
    assert.throws(() => resolveInRoot(root, '/loop', true), { code: 'ELOOP' });
  });

  it('leaves a missing path for the caller to fail on', () => {
    const p = resolveInRoot(root, '/etc/missing/deeper', true);
    assert.equal(p, `${root}/etc/missing/deeper`);
  });
});
