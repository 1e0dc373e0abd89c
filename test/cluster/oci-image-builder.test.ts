// The image builder (testcluster/images/oci-image.ts) on its own, no cluster needed: the layout
// containerd imports, content-addressed blobs that match their digests, the files, links and
// shared libraries that land in the layer, and rebuilding only when an input changes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildImage, type ImageSpec, ociArchitecture, sharedLibraries } from '../../testcluster/images/oci-image.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Unpacks an image tarball and its single layer; returns the parsed JSON documents and the layer listing. */
function unpack(tarball: string, into: string) {
  fs.mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xf', tarball, '-C', into]);
  const blob = (digest: string) => fs.readFileSync(path.join(into, 'blobs', 'sha256', digest.replace('sha256:', '')));
  const index = JSON.parse(fs.readFileSync(path.join(into, 'index.json'), 'utf8'));
  const manifestDigest: string = index.manifests[0].digest;
  const manifest = JSON.parse(blob(manifestDigest).toString());
  const config = JSON.parse(blob(manifest.config.digest).toString());
  const layerDigest: string = manifest.layers[0].digest;
  const rootfs = path.join(into, 'rootfs');
  fs.mkdirSync(rootfs);
  execFileSync('tar', ['-xf', path.join(into, 'blobs', 'sha256', layerDigest.replace('sha256:', '')), '-C', rootfs]);
  return { into, blob, index, manifestDigest, manifest, config, layerDigest, rootfs };
}

describe('the OCI image builder', () => {
  let dir: string;
  let spec: ImageSpec;
  before(() => {
    dir = fs.mkdtempSync(path.join(tmpdir(), 'podlink-image-test-'));
    fs.mkdirSync(path.join(dir, 'app', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'app', 'main.js'), 'console.log("hi")\n');
    fs.writeFileSync(path.join(dir, 'app', 'lib', 'util.js'), 'export {}\n');
    spec = {
      name: 'localhost/builder-test:v1',
      copy: [{ from: path.join(dir, 'app'), to: '/srv/app' }],
      binaries: ['/usr/bin/env'],
      files: [{ path: '/etc/motd', content: 'from the spec\n', mode: 0o600 }],
      symlinks: [{ path: '/usr/local/bin/run', target: '/srv/app/main.js' }],
      dirs: [{ path: '/tmp', mode: 0o1777 }],
      entrypoint: ['/usr/bin/env'],
      cmd: ['true'],
      env: ['MODE=test'],
      workdir: '/srv/app',
    };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should write an OCI layout whose blobs match their digests and name the image for containerd', () => {
    const built = buildImage(spec, path.join(dir, 'out', 'test.tar'));
    assert.equal(built.built, true);
    const img = unpack(built.tarball, path.join(dir, 'x1'));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(img.into, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    assert.equal(img.index.manifests[0].annotations['io.containerd.image.name'], 'localhost/builder-test:v1');
    assert.equal(img.manifestDigest, built.manifestDigest);
    for (const d of [img.manifestDigest, img.manifest.config.digest, img.layerDigest]) {
      assert.equal(`sha256:${sha256(img.blob(d))}`, d, `blob ${d} does not hash to its name`);
    }
    // The machine's own architecture (this test cluster runs the images here), in OCI's spelling.
    const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
    assert.equal(img.config.architecture, arch);
    assert.deepEqual(img.index.manifests[0].platform, { architecture: arch, os: 'linux' });
    assert.deepEqual(img.config.rootfs.diff_ids, [img.layerDigest]); // uncompressed layer: diff_id = digest
    assert.deepEqual(img.config.config.Entrypoint, ['/usr/bin/env']);
    assert.deepEqual(img.config.config.Cmd, ['true']);
    assert.equal(img.config.config.WorkingDir, '/srv/app');
    assert.ok(img.config.config.Env.includes('MODE=test'));
    assert.ok(img.config.config.Env.some((e: string) => e.startsWith('PATH=')), 'a default PATH');
  });

  it('should name architectures as OCI does, and refuse one it cannot name', () => {
    assert.deepEqual(['x64', 'arm64', 'ia32', 'ppc64'].map((a) => ociArchitecture(a)), ['amd64', 'arm64', '386', 'ppc64le']);
    assert.throws(() => ociArchitecture('mips'), /no OCI architecture name for mips/);
  });

  it('should put the files, links, directories and shared libraries into the layer', () => {
    const img = unpack(path.join(dir, 'out', 'test.tar'), path.join(dir, 'x2'));
    const inRoot = (p: string) => path.join(img.rootfs, p);
    assert.equal(fs.readFileSync(inRoot('/srv/app/lib/util.js'), 'utf8'), 'export {}\n');
    assert.equal(fs.readFileSync(inRoot('/etc/motd'), 'utf8'), 'from the spec\n');
    assert.equal(fs.statSync(inRoot('/etc/motd')).mode & 0o7777, 0o600);
    assert.equal(fs.statSync(inRoot('/tmp')).mode & 0o7777, 0o1777);
    assert.equal(fs.readlinkSync(inRoot('/usr/local/bin/run')), '/srv/app/main.js');
    assert.deepEqual(fs.readFileSync(inRoot('/usr/bin/env')), fs.readFileSync('/usr/bin/env'));
    const libs = sharedLibraries('/usr/bin/env');
    assert.ok(libs.some((l) => l.includes('libc.so')), `ldd found no libc: ${libs}`);
    for (const lib of libs) assert.ok(fs.existsSync(inRoot(lib)), `${lib} missing from the layer`);
  });

  it('should not rebuild unchanged inputs, and rebuild when a file\'s content changes', () => {
    const tarball = path.join(dir, 'out', 'test.tar');
    const again = buildImage(spec, tarball);
    assert.equal(again.built, false);
    fs.writeFileSync(path.join(dir, 'app', 'main.js'), 'console.log("changed")\n');
    const changed = buildImage(spec, tarball);
    assert.equal(changed.built, true);
    assert.notEqual(changed.manifestDigest, again.manifestDigest);
  });

  it('should give the same digests for the same inputs (reproducible layers)', () => {
    const a = buildImage(spec, path.join(dir, 'out', 'a.tar'));
    const b = buildImage(spec, path.join(dir, 'out', 'b.tar'));
    assert.equal(a.manifestDigest, b.manifestDigest);
  });

  it('should name a host path that does not exist', () => {
    assert.throws(() => buildImage({ name: 'localhost/bad:v1', copy: [{ from: '/no/such/file', to: '/x' }] }, path.join(dir, 'out', 'bad.tar')),
      /image localhost\/bad:v1: host path "\/no\/such\/file" does not exist/);
  });
});
