/** How the user's environment is built from the local one and the target's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globToRegExp, mergeEnv } from '../../cli/env.js';

const remote = [
  { name: 'PATH', value: '/remote/bin' },
  { name: 'HOME', value: '/remote/home' },
  { name: 'DB_URL', value: 'postgres://db:5432' },
  { name: 'DB_PASSWORD', value: 'remote-secret' },
  { name: 'LANG', value: 'C.UTF-8' },
];
const local = { PATH: '/usr/bin', HOME: '/root', LANG: 'en_US.UTF-8', EDITOR: 'vim' };
const defaults = { enabled: true, exclude: ['PATH', 'HOME', 'HOMEPATH', 'CLASSPATH', 'JAVA_EXE', 'JAVA_HOME', 'PYTHONPATH'], override: {} };

describe('environment merge', () => {
  it('lets remote variables win, except the excluded ones', () => {
    assert.deepEqual(mergeEnv(local, remote, defaults), {
      PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', EDITOR: 'vim', DB_URL: 'postgres://db:5432', DB_PASSWORD: 'remote-secret',
    });
  });

  it('takes only the included remote variables when include is set', () => {
    const env = mergeEnv(local, remote, { ...defaults, include: ['DB_*'] });
    assert.equal(env['DB_URL'], 'postgres://db:5432');
    assert.equal(env['LANG'], 'en_US.UTF-8');
  });

  it('still leaves out excluded variables that include matches', () => {
    const env = mergeEnv(local, remote, { ...defaults, include: ['DB_*'], exclude: ['DB_PASSWORD'] });
    assert.equal(env['DB_URL'], 'postgres://db:5432');
    assert.equal(env['DB_PASSWORD'], undefined);
  });

  it('applies overrides last', () => {
    const env = mergeEnv(local, remote, { ...defaults, override: { DB_PASSWORD: 'mine' } });
    assert.equal(env['DB_PASSWORD'], 'mine');
  });

  it('keeps the local environment untouched when the feature is off', () => {
    assert.deepEqual(mergeEnv(local, remote, { ...defaults, enabled: false }), local);
  });

  it('matches * and ? globs on the whole name, other characters literally', () => {
    assert.ok(globToRegExp('DB_*').test('DB_URL'));
    assert.ok(!globToRegExp('DB_*').test('MY_DB_URL'));
    assert.ok(globToRegExp('A?C').test('ABC'));
    assert.ok(!globToRegExp('A.C').test('ABC'));
  });
});
