/**
 * Issue 13 matrix, part 3: non-blocking connects under podlink behave as the kernel's do. Pod B drops
 * every SYN to two ports (a firewalled service). node's event loop keeps running (its timer fires while
 * the connect is still in progress) and the error arrives through SO_ERROR; Python sees EINPROGRESS,
 * then EALREADY, then ETIMEDOUT from SO_ERROR once the target gives up; and a connect the app abandons
 * (closes) is abandoned in the target at once, while another one to the same host is still trying.
 * The same cases run under the supervisor in supervisor-same-as-layer. Needs root.
 */
import { after, before, describe } from 'node:test';
import { blackholeConnectCases, dropSyns } from '../helpers/blackhole.js';
import { CLI } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

describe('real programs: non-blocking connect to a port that drops SYNs', () => {
  let world: World;

  before(async () => {
    world = await createWorld();
    await dropSyns(world);
  });
  after(() => world?.destroy());

  blackholeConnectCases(() => world, (command) => [process.execPath, [CLI, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...command]]);
});
