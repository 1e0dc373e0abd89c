/**
 * The package as a user gets it: `npm pack`, then `npm install -g` of the tarball into a temporary
 * prefix with install scripts disabled (npm's default for global installs here), and that installed
 * `podlink exec -t pid/<pod A>` run from the laptop netns: env, DNS, a fetch and a remote file. The
 * tarball carries the compiled JavaScript and the layer, supervisor and mirror capture helper prebuilt
 * for linux-x64 and linux-arm64 (the layer's aarch64 ELF needing no newer glibc than the x64 one), and
 * no tests, benchmarks or test cluster.
 * Needs root (network namespaces) and the npm registry (or its cache) for the dependencies.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { createWorld, type World } from '../helpers/world.js';

const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });

/** The highest GLIBC_x.y symbol version an ELF file needs (readelf reads any architecture). */
function newestGlibc(file: string): string {
  const versions = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' }).match(/GLIBC_\d+(\.\d+)+/g) ?? [];
  return versions.map((v) => v.slice(6)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1) ?? '';
}

/** ELF e_machine: 62 = x86-64, 183 = AArch64. */
const elfMachine = (file: string): number => fs.readFileSync(file).readUInt16LE(18);

describe('npm pack + npm install -g --ignore-scripts', () => {
  let tmp: string;
  let files: string[];
  let installed: string;
  let world: World;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-pack-'));
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], packageRoot)) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path);
    npm(['install', '-g', '--prefix', path.join(tmp, 'prefix'), '--ignore-scripts', '--prefer-offline', path.join(tmp, packed!.filename)], tmp);
    installed = path.join(tmp, 'prefix', 'lib', 'node_modules', 'podlink');
    world = await createWorld();
  });
  after(async () => {
    await world?.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('should pack the compiled code and the prebuilt layer, supervisor and capture helper, and only runtime files', () => {
    for (const f of ['bin/podlink.js', 'dist/cli/main.js', 'dist/intproxy/main.js', 'dist/agent/main.js', 'package.json'])
      assert.ok(files.includes(f), `${f} is not in the package`);
    for (const arch of ['x64', 'arm64'])
      for (const f of ['layer/prebuilt/ARCH/libpodlink.so', 'layer/prebuilt/ARCH/podlink-regcheck', 'supervisor/prebuilt/ARCH/podlink-supervisor', 'agent/capture/prebuilt/ARCH/podlink-capture']) {
        const want = f.replace('ARCH', `linux-${arch}`);
        assert.ok(files.includes(want), `${want} is not in the package`);
      }
    const outside = files.filter((f) => /^(test|bench|testcluster|tools|scripts|demo|docs)\/|^dist\/(test|bench|testcluster|tools|demo)\/|\.map$|\.ts$/.test(f));
    assert.deepEqual(outside, []);
    assert.ok(!fs.existsSync(path.join(installed, 'layer', 'build')), 'the install built the layer although install scripts were off');
  });

  it('should ship an aarch64 layer that needs no newer glibc than the x64 one', () => {
    const layer = (arch: string, f: string) => path.join(installed, 'layer', 'prebuilt', `linux-${arch}`, f);
    assert.equal(elfMachine(layer('x64', 'libpodlink.so')), 62);
    const capture = (arch: string) => path.join(installed, 'agent', 'capture', 'prebuilt', `linux-${arch}`, 'podlink-capture');
    assert.deepEqual([elfMachine(capture('x64')), elfMachine(capture('arm64'))], [62, 183], 'the capture helper for each architecture');
    for (const f of ['libpodlink.so', 'podlink-regcheck']) {
      assert.equal(elfMachine(layer('arm64', f)), 183, `${f} for arm64 is not an AArch64 ELF`);
      const [arm, x64] = [newestGlibc(layer('arm64', f)), newestGlibc(layer('x64', f))];
      assert.match(x64, /^2\.\d+$/);
      assert.ok(arm.localeCompare(x64, 'en', { numeric: true }) <= 0, `${f}: arm64 needs glibc ${arm}, x64 only ${x64}`);
    }
  });

  it("should run the installed podlink exec with the target's env, DNS, network and files", async () => {
    const script = `import fs from 'node:fs'; import dns from 'node:dns/promises';
      const [env, file, short] = process.argv.slice(1);
      const addr = (await dns.lookup(short, { family: 4 })).address;
      const body = await (await fetch('http://' + short + '/installed')).text();
      console.log(JSON.stringify({ env: process.env[env], addr, body, file: fs.readFileSync(file, 'utf8') }));`;
    const r = await world.runIn(
      world.laptop,
      path.join(tmp, 'prefix', 'bin', 'podlink'),
      ['exec', '-q', '-t', `pid/${world.podA.pid}`, '--', process.execPath, '--input-type=module', '-e', script, world.secretEnv.name, world.targetFile.path, world.serviceB.short],
      { cwd: tmp, timeoutMs: 120_000, env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` } },
    );
    assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
      env: world.secretEnv.value,
      addr: world.podB.ip,
      body: 'hello from service-b /installed\n',
      file: world.targetFile.content,
    });
  });
});
