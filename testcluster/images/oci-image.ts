// Assembles a one-layer OCI image-layout tarball from files of this machine, so the test cluster
// runs images that no registry ever served: `ctr -n k8s.io images import` takes the tarball as is.
// Generic on purpose: the pause, busybox, CoreDNS and test-app images use it, and so will the
// podlink agent image (Node + dist + nsenter + iptables).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What goes into an image. Paths inside the image are absolute. */
export interface ImageSpec {
  /** Full reference, e.g. "localhost/node-app:local"; pods name it with imagePullPolicy: Never. */
  name: string;
  /** Host files or directories (copied recursively, symlinks kept); `to` defaults to `from`. */
  copy?: { from: string; to?: string }[];
  /** Host executables copied to the same path together with every shared library `ldd` lists. */
  binaries?: string[];
  /** Files written from the spec itself (/etc/passwd, configs). Mode defaults to 0644. */
  files?: { path: string; content: string; mode?: number }[];
  symlinks?: { path: string; target: string }[];
  /** Empty directories, e.g. /tmp with mode 0o1777. */
  dirs?: { path: string; mode?: number }[];
  entrypoint?: string[];
  cmd?: string[];
  /** "KEY=value" entries; PATH gets a default when absent. */
  env?: string[];
  workdir?: string;
  user?: string;
}

export interface BuiltImage {
  name: string;
  tarball: string;
  manifestDigest: string;
  /** False when the tarball on disk already matched the inputs. */
  built: boolean;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_CONFIG = 'application/vnd.oci.image.config.v1+json';
// Uncompressed layers: the tarball never crosses a network, and gzip of a 100 MB node binary would
// cost seconds on every build for nothing.
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar';

export class ImageSpecError extends Error {
  override name = 'ImageSpecError';
  constructor(
    readonly image: string,
    message: string,
  ) {
    super(`image ${image}: ${message}`);
  }
}

/** Node's process.arch → the OCI/Go architecture name the node's runtime pulls by (the machine's own by default). */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  const name = names[arch];
  if (!name) throw new Error(`no OCI architecture name for ${arch}`);
  return name;
}

function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Shared libraries of a dynamic executable, as absolute host paths (the loader included). */
export function sharedLibraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return []; // static executables make ldd fail ("not a dynamic executable")
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** Every host path the image takes, with where it lands: the inputs to hash and to stage. */
function hostInputs(spec: ImageSpec): { from: string; to: string }[] {
  const inputs: { from: string; to: string }[] = [];
  for (const c of spec.copy ?? []) inputs.push({ from: c.from, to: c.to ?? c.from });
  for (const bin of spec.binaries ?? []) {
    inputs.push({ from: bin, to: bin });
    for (const lib of sharedLibraries(bin)) inputs.push({ from: lib, to: lib });
  }
  for (const i of inputs) {
    if (!path.isAbsolute(i.to)) throw new ImageSpecError(spec.name, `target path "${i.to}" is not absolute`);
    if (!fs.existsSync(i.from)) throw new ImageSpecError(spec.name, `host path "${i.from}" does not exist`);
  }
  return inputs;
}

function walk(dir: string, each: (file: string) => void): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, each);
    else each(p);
  }
}

/** Hash of everything that decides the image's content, so an unchanged image is not rebuilt. */
function inputsHash(spec: ImageSpec, inputs: { from: string; to: string }[]): string {
  const h = createHash('sha256').update(JSON.stringify(spec));
  for (const { from, to } of inputs) {
    const hashOne = (file: string) => {
      const st = fs.lstatSync(file);
      const body = st.isSymbolicLink() ? `link:${fs.readlinkSync(file)}` : st.isFile() ? sha256File(file) : st.mode;
      h.update(`${to}\0${path.relative(from, file)}\0${st.mode}\0${body}\n`);
    };
    if (fs.statSync(from).isDirectory()) walk(from, hashOne);
    else hashOne(from);
  }
  return h.digest('hex');
}

function stage(spec: ImageSpec, inputs: { from: string; to: string }[], root: string): void {
  const inRoot = (p: string) => path.join(root, p);
  for (const { from, to } of inputs) {
    fs.mkdirSync(path.dirname(inRoot(to)), { recursive: true });
    // dereference: a library path such as libc.so.6 may be a symlink on the host; the image needs
    // the bytes under the name the loader will ask for. Inside copied trees, symlinks stay links.
    if (fs.statSync(from).isDirectory()) fs.cpSync(from, inRoot(to), { recursive: true, verbatimSymlinks: true });
    else fs.cpSync(from, inRoot(to), { dereference: true });
  }
  for (const d of spec.dirs ?? []) {
    fs.mkdirSync(inRoot(d.path), { recursive: true });
    fs.chmodSync(inRoot(d.path), d.mode ?? 0o755);
  }
  for (const f of spec.files ?? []) {
    fs.mkdirSync(path.dirname(inRoot(f.path)), { recursive: true });
    fs.writeFileSync(inRoot(f.path), f.content, { mode: f.mode ?? 0o644 });
    fs.chmodSync(inRoot(f.path), f.mode ?? 0o644); // writeFileSync's mode is filtered by the umask
  }
  for (const l of spec.symlinks ?? []) {
    fs.mkdirSync(path.dirname(inRoot(l.path)), { recursive: true });
    fs.rmSync(inRoot(l.path), { force: true });
    fs.symlinkSync(l.target, inRoot(l.path));
  }
}

// Fixed owner, order and times: the same inputs give the same layer digest on every machine.
const REPRODUCIBLE_TAR = ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--format=gnu'];

function writeBlob(blobs: string, data: string): { digest: string; size: number } {
  const digest = sha256(data);
  fs.writeFileSync(path.join(blobs, digest), data);
  return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
}

/** Builds `spec` into `tarball` unless the tarball already holds exactly these inputs. */
export function buildImage(spec: ImageSpec, tarball: string): BuiltImage {
  const inputs = hostInputs(spec);
  const hash = inputsHash(spec, inputs);
  const stamp = `${tarball}.inputs`;
  if (fs.existsSync(tarball) && fs.existsSync(stamp)) {
    const [oldHash, digest] = fs.readFileSync(stamp, 'utf8').trim().split(' ');
    if (oldHash === hash && digest) return { name: spec.name, tarball, manifestDigest: digest, built: false };
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-image-'));
  try {
    const root = path.join(work, 'rootfs');
    const layout = path.join(work, 'layout');
    const blobs = path.join(layout, 'blobs', 'sha256');
    fs.mkdirSync(root, { mode: 0o755 }); // becomes the container's "/"; mkdtemp's 0700 would lock out non-root users
    fs.mkdirSync(blobs, { recursive: true });
    stage(spec, inputs, root);
    const layerTar = path.join(work, 'layer.tar');
    execFileSync('tar', [...REPRODUCIBLE_TAR, '-C', root, '-cf', layerTar, '.']);
    const layerDigest = sha256File(layerTar);
    const layerSize = fs.statSync(layerTar).size;
    fs.renameSync(layerTar, path.join(blobs, layerDigest));

    const env = spec.env ?? [];
    const config = {
      architecture: ociArchitecture(),
      os: 'linux',
      config: {
        Env: env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env],
        ...(spec.entrypoint && { Entrypoint: spec.entrypoint }),
        ...(spec.cmd && { Cmd: spec.cmd }),
        ...(spec.workdir && { WorkingDir: spec.workdir }),
        ...(spec.user && { User: spec.user }),
      },
      // diff_ids name the uncompressed layer; with an uncompressed layer it equals the blob digest.
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
      history: [{ created_by: 'podlink testcluster/images/oci-image.ts' }],
    };
    const configBlob = writeBlob(blobs, JSON.stringify(config));
    const manifest = {
      schemaVersion: 2,
      mediaType: MT_MANIFEST,
      config: { mediaType: MT_CONFIG, ...configBlob },
      layers: [{ mediaType: MT_LAYER, digest: `sha256:${layerDigest}`, size: layerSize }],
    };
    const manifestBlob = writeBlob(blobs, JSON.stringify(manifest));
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MT_MANIFEST,
          ...manifestBlob,
          platform: { architecture: ociArchitecture(), os: 'linux' },
          // containerd names the imported image after this annotation.
          annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    };
    fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
    fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.mkdirSync(path.dirname(tarball), { recursive: true });
    execFileSync('tar', [...REPRODUCIBLE_TAR, '-C', layout, '-cf', `${tarball}.tmp`, '.']);
    fs.renameSync(`${tarball}.tmp`, tarball);
    fs.writeFileSync(stamp, `${hash} ${manifestBlob.digest}\n`);
    return { name: spec.name, tarball, manifestDigest: manifestBlob.digest, built: true };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
