/** `internal_proxy`: the per-session process between the layer in your process tree and the agent. */
import { z } from 'zod';
import { logLevel, seconds } from './common.js';

export const internalProxySchema = z
  .strictObject({
    start_idle_timeout: seconds(0, 86400)
      .default(60)
      .describe('Seconds to wait for the first connection from the process (raise it when a debugger holds the process at start).'),
    idle_timeout: seconds(0, 86400).default(5).describe('Seconds to stay up after the last process disconnected (e.g. between a build step and the server it starts).'),
    log_level: logLevel.default('info').describe('Log level: trace, debug, info, warn or error (a RUST_LOG filter is read as its most verbose level).'),
    log_destination: z.string().min(1).optional().describe('File to append the internal proxy log (and the agent\'s error output) to; a path ending in `/` is a directory. Default: no file (with PODLINK_DEBUG=1 the log goes to stderr).'),
  })
  .prefault({})
  .describe('The internal proxy podlink runs for the session.');
