/**
 * The podlink agent. It runs for one session, inside the target's network namespace, and speaks the
 * protocol on stdin/stdout (the intproxy's pipe, or a relay of the port-forwarded socket). It exits
 * when the stream ends, leaving nothing behind.
 *
 *   node dist/agent/main.js --pid PID     serve a local process (run under `nsenter -t PID -n`)
 *   node dist/agent/main.js               targetless: serve the agent's own network and files
 */
import { logger } from '../common/log.js';
import { Link } from '../link/link.js';
import { AgentSession } from './session.js';
import { ownTarget, pidTarget } from './target.js';

const log = logger('agent');

// stdout carries frames: nothing else may ever write to it.
console.log = console.info = console.debug = (...args: unknown[]) => process.stderr.write(args.join(' ') + '\n');

function parseArgs(argv: string[]): { pid?: number } {
  const i = argv.indexOf('--pid');
  if (i < 0) return {};
  const pid = Number(argv[i + 1]);
  if (!Number.isInteger(pid) || pid <= 0) {
    process.stderr.write(`podlink agent: --pid needs a process id, got ${argv[i + 1] ?? 'nothing'}\n`);
    process.exit(2);
  }
  return { pid };
}

const { pid } = parseArgs(process.argv.slice(2));
const target = pid ? pidTarget(pid) : ownTarget();
const link = new Link(process.stdin, process.stdout);
new AgentSession(link, target);
log.debug('start', `agent ${process.pid} serving ${target.describe}`);

// The terminal's Ctrl-C reaches the whole process group; the session ends when the intproxy says so.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => link.shutdown(new Error('SIGTERM')));
link.on('close', (reason) => {
  log.debug('stop', `stream closed: ${reason?.message ?? 'end'}`);
  // Let Close frames flush, then go: no timers or sockets may keep the agent alive.
  setImmediate(() => process.exit(0));
});
