/**
 * Failures the CLI reports to the user. Each has a stable `code` (match on it, not on the text) and a
 * `hint` that names the way out. The CLI prints `podlink: <message> (<hint>)` on one line and exits
 * with `exitCode`.
 */
export class PodlinkError extends Error {
  override name = 'PodlinkError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The one line the CLI prints for an error, whatever threw it. */
export function errorLine(err: unknown): string {
  if (err && typeof err === 'object' && 'hint' in err && err instanceof Error) {
    const hint = (err as { hint?: string }).hint;
    return `podlink: ${err.message}${hint ? ` (${hint})` : ''}`;
  }
  if (err instanceof Error) return `podlink: internal error: ${err.message} (please report this with PODLINK_DEBUG=1 output)`;
  return `podlink: internal error: ${String(err)}`;
}
