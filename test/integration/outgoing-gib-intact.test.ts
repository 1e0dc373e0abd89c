/**
 * Issue 16: a 1 GiB download through podlink arrives byte for byte. Real curl under the layer on the
 * laptop, `podlink exec -t pid/<pod A>`, from the benchmark's blob server in pod B (bench/servers.ts:
 * a fixed pseudo-random 1 MiB block, repeated), its output piped into sha256sum in the same process
 * tree. Every hop's buffers, windows and frame boundaries are crossed some 16,000 times on the way.
 * Needs root.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { expectedSha256 } from '../../bench/blob.js';
import { packageRoot } from '../../common/paths.js';
import { ready } from '../helpers/matrix.js';
import { podlinkExec } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

const HTTP_PORT = 8090;
const ECHO_PORT = 8091;

describe('outgoing: a 1 GiB download through podlink', () => {
  let world: World;

  before(async () => {
    world = await createWorld();
    const servers = world.spawnIn(world.podB.netns, process.execPath, [path.join(packageRoot, 'dist', 'bench', 'servers.js'), String(HTTP_PORT), String(ECHO_PORT)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await ready(servers, 'blob server');
  });
  after(() => world?.destroy());

  it('should arrive intact (sha256 of all 1,073,741,824 bytes)', async () => {
    const url = `http://${world.podB.ip}:${HTTP_PORT}/blob?mb=1024`;
    const r = await podlinkExec(world, world.podA.pid, ['sh', '-c', `curl -sS --fail "${url}" | sha256sum`], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split(' ')[0], expectedSha256(1024 * 1024 * 1024));
  });
});
