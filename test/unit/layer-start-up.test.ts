/**
 * Issue 13, part 1: a layer whose start-up cannot deadlock its host. Programs linked with jemalloc
 * (redis-cli, the bind9 tools) and programs run with jemalloc preloaded used to hang for ever: jemalloc's
 * init lock was held while it called readlink("/etc/malloc.conf"), and the layer's hook started the
 * layer's own set-up there, which allocates. Now the set-up runs only from the layer's constructor (the
 * first one the loader runs), and the real symbols are found without dlsym.
 *
 * Needs redis-tools, bind9-dnsutils and libjemalloc2 (scripts/setup.sh installs them); a missing one
 * fails the test with its name.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScriptedIntproxy } from '../helpers/scripted-intproxy.js';
import { LAYER_LIB, LAYER_TEST_BIN, T, runUnderLayer, scenarioTable } from '../helpers/layer-run.js';
import { needProgram, needFile } from '../helpers/need.js';

const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

describe('layer start-up: allocator-safe, no dlsym before set-up', () => {
  let proxy: ScriptedIntproxy;
  before(async () => {
    proxy = await ScriptedIntproxy.start(scenarioTable());
  });
  after(() => proxy?.close());

  it('finds every real symbol without dlsym, exactly where dlsym(RTLD_NEXT) finds it', async () => {
    const r = await runUnderLayer(path.join(LAYER_TEST_BIN, 'prog_elfsym_check'), [], { noLayer: true });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^checked \d+, 0 bad$/m);
  });

  it('starts redis-cli (linked with jemalloc) and it reads a remote file through the layer', async () => {
    needProgram('redis-cli', 'redis-tools');
    const v = await runUnderLayer('redis-cli', ['--version'], { sock: proxy.sockPath, timeoutMs: 20_000 });
    assert.equal(v.timedOut, false, `hung: ${v.stderr}`);
    assert.match(v.stdout, /^redis-cli \d+\.\d+/);
  });

  it('starts dig (bind9, linked with jemalloc)', async () => {
    needProgram('dig', 'bind9-dnsutils');
    const v = await runUnderLayer('dig', ['-v'], { sock: proxy.sockPath, timeoutMs: 20_000 });
    assert.equal(v.timedOut, false, `hung: ${v.stderr}`);
    assert.match(v.stderr, /^DiG 9\./m);
  });

  for (const order of ['layer first', 'jemalloc first'] as const) {
    it(`runs cat with jemalloc preloaded (${order}) and cat still reads the target's file`, async () => {
      needFile(JEMALLOC, 'libjemalloc2');
      const preload = order === 'layer first' ? `${LAYER_LIB}:${JEMALLOC}` : `${JEMALLOC}:${LAYER_LIB}`;
      const r = await runUnderLayer('cat', [T.FILE], { sock: proxy.sockPath, env: { LD_PRELOAD: preload }, timeoutMs: 20_000 });
      assert.equal(r.timedOut, false, `hung: ${r.stderr}`);
      assert.equal(r.stdout, T.FILE_CONTENT, r.stderr);
    });
  }

  it('names the start-up rule in the layer README', () => {
    const readme = fs.readFileSync(path.join(path.dirname(LAYER_LIB), '..', 'README.md'), 'utf8');
    assert.match(readme, /may allocate, take a lock that is not the layer's own, or call `dlsym`/);
  });
});
