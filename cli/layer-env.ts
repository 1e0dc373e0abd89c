/**
 * The environment variables that carry the session to the layer in every process of the tree (the
 * layer reads them once at start-up, and its exec hooks put them back if a program clears them).
 * See layer/README.md for what each one does.
 */
import { layerLibrary } from '../common/paths.js';

export interface LayerFeatures {
  fs: { mode: string; read_only: string[]; read_write: string[]; local: string[]; not_found: string[] };
  network: {
    outgoing: { tcp: boolean; udp: boolean; ignore_localhost: boolean };
    dns: { enabled: boolean };
  };
}

const flag = (b: boolean): string => (b ? '1' : '0');

export function layerEnv(
  feature: LayerFeatures,
  ctx: { socketPath: string; localPrefixes: string[]; currentPreload?: string },
): Record<string, string> {
  const preload = [layerLibrary, ...(ctx.currentPreload ?? '').split(/[: ]/).filter((p) => p && p !== layerLibrary)];
  return {
    LD_PRELOAD: preload.join(':'),
    PODLINK_SOCK: ctx.socketPath,
    PODLINK_FS_MODE: feature.fs.mode,
    PODLINK_FS_READ_ONLY: feature.fs.read_only.join('\n'),
    PODLINK_FS_READ_WRITE: feature.fs.read_write.join('\n'),
    PODLINK_FS_LOCAL: feature.fs.local.join('\n'),
    PODLINK_FS_NOT_FOUND: feature.fs.not_found.join('\n'),
    PODLINK_FS_LOCAL_PREFIXES: ctx.localPrefixes.join('\n'),
    PODLINK_OUTGOING_TCP: flag(feature.network.outgoing.tcp),
    PODLINK_OUTGOING_UDP: flag(feature.network.outgoing.udp),
    PODLINK_IGNORE_LOCALHOST: flag(feature.network.outgoing.ignore_localhost),
    PODLINK_DNS: flag(feature.network.dns.enabled),
    // libuv must not read files through io_uring, which no hook can see.
    UV_USE_IO_URING: '0',
  };
}
