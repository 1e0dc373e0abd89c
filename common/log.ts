/**
 * Tracing for the TypeScript parts. Every event is published on a diagnostics_channel named
 * `podlink:<part>:<event>` (so tests and tools can subscribe); with PODLINK_DEBUG=1 it is also printed
 * on stderr, prefixed with the part's name.
 */
import diagnostics from 'node:diagnostics_channel';

export type Part = 'cli' | 'intproxy' | 'agent';

const debugOn = process.env['PODLINK_DEBUG'] === '1';

export interface Log {
  debug(event: string, message: string): void;
  warn(message: string): void;
}

export function logger(part: Part): Log {
  const channels = new Map<string, diagnostics.Channel>();
  const channel = (event: string): diagnostics.Channel => {
    let c = channels.get(event);
    if (!c) channels.set(event, (c = diagnostics.channel(`podlink:${part}:${event}`)));
    return c;
  };
  return {
    debug(event, message) {
      const c = channel(event);
      if (c.hasSubscribers) c.publish({ message });
      if (debugOn) process.stderr.write(`podlink[${part}] ${event}: ${message}\n`);
    },
    warn(message) {
      process.stderr.write(`podlink[${part}]: ${message}\n`);
    },
  };
}
