/**
 * Who runs this session, as the other developers on a target see it: in the line that refuses a
 * conflicting steal, in `podlink sessions`, and on the agent's Job (podlink.dev/user, podlink.dev/host).
 */
import os from 'node:os';

export function sessionOwner(): { user: string; host: string } {
  return { user: os.userInfo().username, host: os.hostname() };
}
