/**
 * The first exchange on every link. A Hello of another protocol version never decodes (the codec
 * stops at its leading version and build and raises VersionMismatch); `Link` answers it with an
 * Error naming both releases, so these helpers only build the frames both ends send.
 */
import { PODLINK_BUILD } from '../protocol/build.js';
import { PROTOCOL_VERSION, Role } from '../protocol/spec.js';
import type { MessageOf, Unsent } from '../protocol/types.js';

export type HelloFields = Omit<MessageOf<'Hello'>, 'type' | 'id'>;

/** The Hello this process sends: `token` is the agent session's (empty on a layer link or a pipe). */
export function helloFrom(role: (typeof Role)[keyof typeof Role], name: string, token = ''): HelloFields {
  return { version: PROTOCOL_VERSION, build: PODLINK_BUILD, role, pid: process.pid, ppid: process.ppid, name, token };
}

export function helloOk(agentPid: number): Unsent {
  return { type: 'HelloOk', version: PROTOCOL_VERSION, build: PODLINK_BUILD, agentPid };
}
