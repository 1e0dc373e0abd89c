/** Linux errno values, and the errno of a Node.js system error. */
import os from 'node:os';

export const E = os.constants.errno;

/** "Host is down": the answer to every request once the agent is gone (absent from os.constants). */
export const EHOSTDOWN = 112;

/** The positive errno of a failed call (a Node system error, or anything with an errno); EIO when none. */
export function errnoOf(err: unknown): number {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code && e.code in E) return E[e.code as keyof typeof E];
  if (typeof e?.errno === 'number' && e.errno !== 0) return Math.abs(e.errno);
  return E.EIO;
}

/** The symbolic name of an errno ("ECONNREFUSED"), for messages. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(E)) if (value === errno) return name;
  return `errno ${errno}`;
}
