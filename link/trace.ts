/**
 * The per-hop trace of the relayed bytes: where each byte was read and written, and when.
 *
 * Every event is published on the diagnostics_channel `podlink:relay:io` as
 * `{ t, event, conn, bytes }` (t = process.hrtime.bigint(), the machine's monotonic clock, so the
 * intproxy's and the agent's events line up on one time axis). Events:
 *
 *   sock-in / sock-out       bytes read from / handed to a relayed socket (conn)
 *   frame-out / msg-in       a frame queued on a link / a message decoded from one (`hop` names the peer;
 *                            `frames` is the message's type code; msg-in leaves Data out)
 *   link-write               one write of queued frames to a link's transport (bytes, `frames`)
 *   link-in                  one read from a link's transport (bytes, `frames` decoded)
 *   window-in / window-out   credit received from / granted to the peer (conn)
 *   pause / resume           a relayed socket stopped / started being read: its send window ran out / refilled
 *
 * Publishing costs one `hasSubscribers` check per event when nobody listens. With PODLINK_TRACE=DIR
 * in its environment, the intproxy and the agent each write their events to DIR/<part>-<pid>.trace
 * (one line per event: t part hop event conn bytes frames, and at exit `t part - cpu 0 user_µs system_µs`);
 * `node dist/bench/trace.js DIR` sums them up.
 */
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import path from 'node:path';

export interface TraceEvent {
  t: bigint;
  event: string;
  hop: string;
  conn: number;
  bytes: number;
  frames?: number;
}

export const io = diagnostics.channel('podlink:relay:io');

/** Publish one event; a no-op unless someone subscribed. */
export function trace(event: string, hop: string, conn: number, bytes: number, frames?: number): void {
  if (!io.hasSubscribers) return;
  const e: TraceEvent = { t: process.hrtime.bigint(), event, hop, conn, bytes };
  if (frames !== undefined) e.frames = frames;
  io.publish(e);
}

/** With PODLINK_TRACE set: write this process's events to a file in that directory. */
export function traceToFile(part: string): void {
  const dir = process.env['PODLINK_TRACE'];
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, `${part}-${process.pid}.trace`), 'w');
  let lines: string[] = [];
  const flush = (): void => {
    if (lines.length) fs.writeSync(fd, lines.join(''));
    lines = [];
  };
  io.subscribe((m) => {
    const e = m as TraceEvent;
    lines.push(`${e.t} ${part} ${e.hop} ${e.event} ${e.conn} ${e.bytes} ${e.frames ?? 0}\n`);
    if (lines.length >= 4096) flush();
  });
  process.on('exit', () => {
    // The process's CPU time, as a last line: `t part - cpu 0 user_us system_us`.
    const cpu = process.cpuUsage();
    lines.push(`${process.hrtime.bigint()} ${part} - cpu 0 ${cpu.user} ${cpu.system}\n`);
    flush();
  });
  setInterval(flush, 200).unref();
}
