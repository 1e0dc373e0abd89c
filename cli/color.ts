/**
 * Whether the CLI's output may carry colour: only on a terminal, unless the user says otherwise.
 * `NO_COLOR` (any non-empty value, no-color.org) turns it off; `FORCE_COLOR` turns it on (0/false off,
 * 1/true/empty 16 colours, 2 for 256, 3 for truecolor). Returns a colour depth as Node reports one (1 =
 * none). clipanion's own default asks the terminal type but never whether the stream is a terminal,
 * so `podlink exec --help | cat` printed escape codes.
 */
export function colorDepth(stream: { isTTY?: boolean; getColorDepth?: (env?: object) => number }, env: NodeJS.ProcessEnv = process.env): number {
  if (env['NO_COLOR']) return 1;
  const force = env['FORCE_COLOR'];
  const terminal = stream.isTTY && stream.getColorDepth ? stream.getColorDepth(env) : 1;
  if (force !== undefined) {
    if (force === '0' || force.toLowerCase() === 'false') return 1;
    if (force === '2') return Math.max(8, terminal);
    if (force === '3') return 24;
    return Math.max(4, terminal);
  }
  return stream.isTTY ? terminal : 1;
}
