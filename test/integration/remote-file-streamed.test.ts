/**
 * Issue 16: a large file that exists only in the target is read while it arrives (the open returns
 * after its first chunk, the rest streams in behind the reads), and every way of reading it gets the
 * target's bytes: python's read(), node's stream, a child forked halfway through, a program exec'd
 * on a copy of the descriptor (dup2 onto stdin), stdio. Real programs under the layer, with the real
 * intproxy and agent (`podlink exec -t pid/<pod A>`); the file lives in a tmpfs of pod A's own. Needs
 * root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { blobBlock, expectedSha256 } from '../../bench/blob.js';
import { podlinkExec } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

const DIR = '/mnt/podlink-streamed';
const FILE = `${DIR}/big.bin`;
const MIB = 48;
const SHA = expectedSha256(MIB * 1024 * 1024);

describe('remote files: a large file read while it arrives', () => {
  let world: World;

  before(async () => {
    world = await createWorld();
    const pid = world.podA.pid;
    execFileSync('nsenter', [`--target=${pid}`, '--mount', '--', 'sh', '-c', `mkdir -p ${DIR} && mount -t tmpfs -o size=${MIB + 16}m streamed ${DIR}`]);
    const fd = fs.openSync(`/proc/${pid}/root${FILE}`, 'w');
    for (let i = 0; i < MIB; i++) fs.writeSync(fd, blobBlock());
    fs.closeSync(fd);
    assert.equal(fs.existsSync(FILE), false, 'the file must exist only in the target');
  });
  after(() => world?.destroy());

  const run = async (argv: string[]): Promise<string> => {
    const r = await podlinkExec(world, world.podA.pid, argv, { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  it('python reads it whole (open is close-on-exec, so it streams)', async () => {
    const py = `import hashlib; print(hashlib.sha256(open(${JSON.stringify(FILE)}, 'rb').read()).hexdigest())`;
    assert.equal(await run(['python3', '-c', py]), SHA);
  });

  it('node streams it', async () => {
    const js = `const h = require('crypto').createHash('sha256');
require('fs').createReadStream(${JSON.stringify(FILE)}).on('data', (d) => h.update(d)).on('end', () => console.log(h.digest('hex')));`;
    assert.equal(await run([process.execPath, '-e', js]), SHA);
  });

  it('a child forked after the first bytes reads the rest', async () => {
    const py = `import hashlib, os
f = open(${JSON.stringify(FILE)}, 'rb'); h = hashlib.sha256(f.read(1000))
pid = os.fork()
if pid == 0:
    h.update(f.read()); print(h.hexdigest(), flush=True); os._exit(0)
os.waitpid(pid, 0)`;
    assert.equal(await run(['python3', '-c', py]), SHA);
  });

  it('a program exec’d on a copy of the descriptor (dup2 onto stdin) reads all of it', async () => {
    const py = `import os
fd = os.open(${JSON.stringify(FILE)}, os.O_RDONLY | os.O_CLOEXEC)
os.dup2(fd, 0)
os.execvp('sha256sum', ['sha256sum'])`;
    assert.equal((await run(['python3', '-c', py])).split(' ')[0], SHA);
  });

  it('stdio reads it (fopen with "re")', async () => {
    const c = ['sh', '-c', `python3 -c "
import ctypes, hashlib
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
f = libc.fopen(b'${FILE}', b're')
buf = ctypes.create_string_buffer(1 << 20)
h = hashlib.sha256()
while True:
    n = libc.fread(buf, 1, len(buf), ctypes.c_void_p(f))
    if n <= 0: break
    h.update(buf.raw[:n])
print(h.hexdigest())"`];
    assert.equal(await run(c), SHA);
  });
});
