/**
 * Where the parts of an installed podlink live, relative to this package.
 *
 * The layer's native files (libpodlink.so and the regcomp helper) are looked up in two places: a
 * build with this machine's C compiler (`layer/build/`, what `npm run build` and the fallback
 * `make -C layer runtime` write) wins, else the prebuilt copy the package ships for this machine's
 * architecture (`layer/prebuilt/linux-x64/`, `linux-arm64/`, see scripts/prebuild-layer.sh). The
 * supervisor (static and Go programs, supervisor/README.md) is found the same way under `supervisor/`,
 * and the mirror's capture helper (run by a local agent, for `pid/` targets) under `agent/capture/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the directory holding package.json). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const agentEntry = path.join(packageRoot, 'dist', 'agent', 'main.js');
export const intproxyEntry = path.join(packageRoot, 'dist', 'intproxy', 'main.js');

/** The architectures the package ships the layer prebuilt for, by Node's `process.arch`. */
export const PREBUILT_ARCHES = ['x64', 'arm64'] as const;

/** The path of a native layer file for this machine (the first candidate when none exists). */
export function layerFile(name: string, arch: string = process.arch): string {
  return nativeFile('layer', name, arch);
}

/** A native file of `part` (layer, supervisor, the capture helper): its local build, else its prebuilt copy for `arch`. */
export function nativeFile(part: 'layer' | 'supervisor' | 'agent/capture', name: string, arch: string = process.arch): string {
  const candidates = [path.join(packageRoot, part, 'build', name), path.join(packageRoot, part, 'prebuilt', `linux-${arch}`, name)];
  return candidates.find((p) => fs.existsSync(p)) ?? candidates[0]!;
}

export const layerLibrary = layerFile('libpodlink.so');
/** The mirror's packet capture, run by the agent (agent/capture): `agent/capture/build/` wins over `agent/capture/prebuilt/linux-<arch>/`. */
export const captureHelper = nativeFile('agent/capture', 'podlink-capture');
/** The seccomp supervisor: `supervisor/build/` (a local build) wins over `supervisor/prebuilt/linux-<arch>/`. */
export const supervisorBinary = nativeFile('supervisor', 'podlink-supervisor');
/** Compiles fs patterns with glibc's regcomp exactly as the layer does (layer/tools/regcheck.c). */
export const regcheckHelper = layerFile('podlink-regcheck');
