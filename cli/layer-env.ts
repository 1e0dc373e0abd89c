/**
 * The environment variables that carry the session to the layer in every process of the tree (the
 * layer reads them once at start-up, and its exec hooks put them back if a program clears them).
 *
 * LAYER_ENV is the one definition of that contract: tools/gen writes it as C macros into
 * layer/src/env_contract.h, which layer/src/config.c reads them by, and a unit test fails when the
 * header drifts from this file. See layer/README.md for what each one does.
 */
import { layerLibrary } from '../common/paths.js';

/** Name, C macro suffix (`PL_ENV_<c>`) and format of each variable. */
export const LAYER_ENV = {
  sock: { name: 'PODLINK_SOCK', c: 'SOCK', format: "path of the intproxy's unix socket; unset = the layer stays passive" },
  debug: { name: 'PODLINK_DEBUG', c: 'DEBUG', format: 'flag: log to stderr' },
  fsMode: { name: 'PODLINK_FS_MODE', c: 'FS_MODE', format: 'one of the FS_MODES below' },
  fsReadOnly: { name: 'PODLINK_FS_READ_ONLY', c: 'FS_READ_ONLY', format: 'list of POSIX EREs' },
  fsReadWrite: { name: 'PODLINK_FS_READ_WRITE', c: 'FS_READ_WRITE', format: 'list of POSIX EREs' },
  fsLocal: { name: 'PODLINK_FS_LOCAL', c: 'FS_LOCAL', format: 'list of POSIX EREs' },
  fsNotFound: { name: 'PODLINK_FS_NOT_FOUND', c: 'FS_NOT_FOUND', format: 'list of POSIX EREs' },
  fsLocalPrefixes: { name: 'PODLINK_FS_LOCAL_PREFIXES', c: 'FS_LOCAL_PREFIXES', format: 'list of absolute directories kept local' },
  outgoingTcp: { name: 'PODLINK_OUTGOING_TCP', c: 'OUTGOING_TCP', format: 'flag, default on' },
  outgoingUdp: { name: 'PODLINK_OUTGOING_UDP', c: 'OUTGOING_UDP', format: 'flag, default on' },
  ignoreLocalhost: { name: 'PODLINK_IGNORE_LOCALHOST', c: 'IGNORE_LOCALHOST', format: 'flag, default on' },
  dns: { name: 'PODLINK_DNS', c: 'DNS', format: 'flag, default on' },
  // libuv must not read files through io_uring, which no hook can see.
  uvIoUring: { name: 'UV_USE_IO_URING', c: 'UV_IO_URING', format: 'always "0"' },
} as const;

/** Every variable the layer treats as its own starts with this (children inherit them all). */
export const LAYER_ENV_PREFIX = 'PODLINK_';
/** Lists: one item per line. */
export const LIST_SEPARATOR = '\n';
/** Flags: on is `1`; off is `0` (the layer also reads `false`); unset or empty = the default. */
export const FLAG = { on: '1', off: '0' } as const;
export const FS_MODES = ['read', 'write', 'local', 'localwithoverrides'] as const;

export interface LayerFeatures {
  fs: { mode: (typeof FS_MODES)[number]; read_only: string[]; read_write: string[]; local: string[]; not_found: string[] };
  network: {
    outgoing: { tcp: boolean; udp: boolean; ignore_localhost: boolean };
    dns: { enabled: boolean };
  };
}

const flag = (b: boolean): string => (b ? FLAG.on : FLAG.off);
const list = (items: string[]): string => items.join(LIST_SEPARATOR);

export function layerEnv(
  feature: LayerFeatures,
  ctx: { socketPath: string; localPrefixes: string[]; currentPreload?: string },
): Record<string, string> {
  const preload = [layerLibrary, ...(ctx.currentPreload ?? '').split(/[: ]/).filter((p) => p && p !== layerLibrary)];
  const { fs, network } = feature;
  const E = LAYER_ENV;
  return {
    LD_PRELOAD: preload.join(':'),
    [E.sock.name]: ctx.socketPath,
    [E.fsMode.name]: fs.mode,
    [E.fsReadOnly.name]: list(fs.read_only),
    [E.fsReadWrite.name]: list(fs.read_write),
    [E.fsLocal.name]: list(fs.local),
    [E.fsNotFound.name]: list(fs.not_found),
    [E.fsLocalPrefixes.name]: list(ctx.localPrefixes),
    [E.outgoingTcp.name]: flag(network.outgoing.tcp),
    [E.outgoingUdp.name]: flag(network.outgoing.udp),
    [E.ignoreLocalhost.name]: flag(network.outgoing.ignore_localhost),
    [E.dns.name]: flag(network.dns.enabled),
    [E.uvIoUring.name]: '0',
  };
}
