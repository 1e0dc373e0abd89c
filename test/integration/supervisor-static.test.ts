/**
 * Issue 18: static programs under `podlink exec -t pid/<pod A>` from the loopback-only laptop, served by
 * the supervisor: busybox-static (glibc, statically linked: its resolver reads the target's
 * resolv.conf and hosts and talks to pod A's DNS itself) — wget by short name, nslookup of the cluster
 * name, cat, ls and stat of the target-only file — and a static musl program (musl's resolver sends
 * its queries unconnected with sendto and keeps only answers from the server it asked), built here with
 * musl-gcc. Needs root, busybox-static and musl-tools.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { SUPERVISOR_FIXTURES } from '../helpers/go-build.js';
import { needFile, needProgram } from '../helpers/need.js';
import { createWorld, type World } from '../helpers/world.js';

const cli = path.join(packageRoot, 'bin', 'podlink.js');

describe('podlink exec of static programs (the supervisor path)', () => {
  let world: World;
  let dir: string;
  let busybox: string;
  let musl: string;

  before(async () => {
    busybox = needFile('/bin/busybox', 'busybox-static');
    const musl_gcc = needProgram('musl-gcc', 'musl-tools');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-static-'));
    musl = path.join(dir, 'musl-probe');
    execFileSync(musl_gcc, ['-static', '-O1', '-o', musl, path.join(SUPERVISOR_FIXTURES, 'musl', 'probe.c')]);
    world = await createWorld();
  });
  after(async () => {
    await world?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const exec = (command: string[]) =>
    world.runIn(world.laptop, process.execPath, [cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...command], { cwd: dir, timeoutMs: 60_000 });

  it('is static: busybox has no program interpreter, so the layer could never serve it', () => {
    const check = JSON.parse(execFileSync(path.join(packageRoot, 'supervisor/build/podlink-supervisor'), ['check', busybox], { encoding: 'utf8' }));
    assert.deepEqual(check, { kind: 'static', supervisor: true, available: true });
  });

  it('busybox wget fetches from service-b by its short name through pod A', async () => {
    const r = await exec([busybox, 'wget', '-q', '-O', '-', `http://${world.serviceB.short}/bb-wget`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from service-b /bb-wget\n');
  });

  it("busybox nslookup asks pod A's nameserver and gets service-b's address", async () => {
    const r = await exec([busybox, 'nslookup', '-type=a', world.serviceB.fqdn]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Server:\\s+${world.dns.ip.replace(/\./g, '\\.')}\\n`));
    assert.match(r.stdout, new RegExp(`Name:\\s+${world.serviceB.fqdn.replace(/\./g, '\\.')}\\nAddress: ${world.podB.ip.replace(/\./g, '\\.')}\\n`));
  });

  it("busybox cat, ls and stat see the target's file and directory", async () => {
    const f = world.targetFile;
    const r = await exec([busybox, 'sh', '-c', `${busybox} cat ${f.path}; ${busybox} ls ${f.dir}; ${busybox} stat -c '%s %F' ${f.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${f.content}${[...f.entries].sort().join('\n')}\n${Buffer.byteLength(f.content)} regular file\n`);
  });

  it('a static musl program resolves (musl resolver), connects and reads in the target', async () => {
    const r = await exec([musl, world.serviceB.short, '/musl', world.targetFile.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `resolved=${world.podB.ip}\nhttp=hello from service-b /musl\nfile=${world.targetFile.content.split('\n')[0]}\n`);
  });
});
