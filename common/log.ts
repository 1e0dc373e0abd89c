/**
 * Tracing for the TypeScript parts. Every event is published on a diagnostics_channel named
 * `podlink:<part>:<event>` (so tests and tools can subscribe). Debug lines are written when
 * PODLINK_DEBUG=1 (to stderr) or when a process is given a log file at debug/trace level
 * (`internal_proxy.log_destination` / `log_level`); warnings always go to stderr and the file.
 */
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';

export type Part = 'cli' | 'intproxy' | 'agent';

const sink = {
  stderrDebug: process.env['PODLINK_DEBUG'] === '1',
  fileDebug: false,
  fd: undefined as number | undefined,
};

/** Send this process's log to a file too (appended), with debug lines when `level` asks for them. */
export function logToFile(file: string, level: string): void {
  sink.fd = fs.openSync(file, 'a', 0o600);
  sink.fileDebug = level === 'debug' || level === 'trace';
}

/** Raw bytes for the log file (e.g. another process's stderr). */
export function logRaw(chunk: Buffer | string): void {
  if (sink.fd !== undefined) fs.writeSync(sink.fd, typeof chunk === "string" ? Buffer.from(chunk) : chunk);
}

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
      if (!sink.stderrDebug && !sink.fileDebug) return;
      const line = `${new Date().toISOString()} podlink[${part}] ${event}: ${message}\n`;
      if (sink.stderrDebug) process.stderr.write(line);
      if (sink.fileDebug) logRaw(line);
    },
    warn(message) {
      const line = `podlink[${part}]: ${message}\n`;
      process.stderr.write(line);
      logRaw(`${new Date().toISOString()} ${line}`);
    },
  };
}
