/**
 * The environment variables that carry the session to the layer in every process of the tree (the
 * layer reads them once at start-up, and its exec hooks put them back if a program clears them).
 *
 * LAYER_ENV is the one definition of that contract: tools/gen writes it as C macros into
 * layer/src/env_contract.h, which layer/src/config.c reads them by, and a unit test fails when the
 * header drifts from this file. See layer/README.md for what each one does.
 */
import { layerLibrary, supervisorBinary } from '../common/paths.js';

/** Each variable, with the format of its value. In C it is `PL_ENV_<name without PODLINK_>`. */
export const LAYER_ENV = {
  PODLINK_SOCK: "path of the intproxy's unix socket; unset = the layer stays passive",
  PODLINK_DEBUG: 'flag: log to stderr',
  PODLINK_FS_MODE: 'one of the FS_MODES below',
  PODLINK_FS_READ_ONLY: 'list of POSIX EREs',
  PODLINK_FS_READ_WRITE: 'list of POSIX EREs',
  PODLINK_FS_LOCAL: 'list of POSIX EREs',
  PODLINK_FS_NOT_FOUND: 'list of POSIX EREs',
  PODLINK_FS_LOCAL_PREFIXES: 'list of absolute directories kept local',
  PODLINK_OUTGOING_TCP: 'flag, default on',
  PODLINK_OUTGOING_UDP: 'flag, default on',
  PODLINK_IGNORE_LOCALHOST: 'flag, default on',
  PODLINK_DNS: 'flag, default on',
  PODLINK_HOSTNAME: "the target's hostname, for gethostname and uname; empty = the real one",
  PODLINK_INCOMING: 'flag, default off: tell the intproxy about listening sockets',
  PODLINK_LISTEN_PORTS: 'list of APP_PORT:LOCAL_PORT pairs (listen_ports)',
  // The layer's exec hooks hand a static or Go child to the supervisor (supervisor/README.md).
  PODLINK_SUPERVISOR: 'absolute path of podlink-supervisor; unset = no hand-over',
  // libuv must not read files through io_uring, which no hook can see.
  UV_USE_IO_URING: 'always "0"',
} as const;
export type LayerEnvName = keyof typeof LAYER_ENV;

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
    incoming: { mode: string; listen_ports: [number, number][] };
  };
}

const flag = (b: boolean): string => (b ? FLAG.on : FLAG.off);
const list = (items: string[]): string => items.join(LIST_SEPARATOR);

/** The layer's variables for a session (all but PODLINK_DEBUG, which passes through from the user). */
export function layerEnv(
  feature: LayerFeatures,
  ctx: { socketPath: string; localPrefixes: string[]; currentPreload?: string; supervisor?: string; hostname?: string },
): Record<string, string> {
  const preload = [layerLibrary, ...(ctx.currentPreload ?? '').split(/[: ]/).filter((p) => p && p !== layerLibrary)];
  const { fs, network } = feature;
  const vars: Record<Exclude<LayerEnvName, 'PODLINK_DEBUG'>, string> = {
    PODLINK_SOCK: ctx.socketPath,
    PODLINK_FS_MODE: fs.mode,
    PODLINK_FS_READ_ONLY: list(fs.read_only),
    PODLINK_FS_READ_WRITE: list(fs.read_write),
    PODLINK_FS_LOCAL: list(fs.local),
    PODLINK_FS_NOT_FOUND: list(fs.not_found),
    PODLINK_FS_LOCAL_PREFIXES: list(ctx.localPrefixes),
    PODLINK_OUTGOING_TCP: flag(network.outgoing.tcp),
    PODLINK_OUTGOING_UDP: flag(network.outgoing.udp),
    PODLINK_IGNORE_LOCALHOST: flag(network.outgoing.ignore_localhost),
    PODLINK_DNS: flag(network.dns.enabled),
    PODLINK_HOSTNAME: ctx.hostname ?? '',
    PODLINK_INCOMING: flag(network.incoming.mode !== 'off'),
    PODLINK_LISTEN_PORTS: list(network.incoming.listen_ports.map(([app, local]) => `${app}:${local}`)),
    PODLINK_SUPERVISOR: ctx.supervisor ?? supervisorBinary,
    UV_USE_IO_URING: '0',
  };
  return { LD_PRELOAD: preload.join(':'), ...vars };
}
