/**
 * The podlink agent. It runs for one session, inside the target's network namespace, and exits when
 * the session is over, leaving nothing behind.
 *
 *   node dist/agent/main.js --pid PID
 *       a local process as target (run under `nsenter -t PID -n`): the link is stdin/stdout.
 *   node dist/agent/main.js --listen PORT [--container-id ID] [--grace S] [--idle S]
 *       on a cluster (the agent image's entrypoint): listen on 127.0.0.1:PORT of the agent's own pod
 *       (the intproxy comes through the API server's port-forward), with the session token from
 *       PODLINK_AGENT_TOKEN. With a container ID, find that container's process on the node and, if it
 *       is in another network namespace (a Job pod with hostPID), run on inside it: the listening
 *       socket stays in the agent pod's namespace, every socket opened after that is the target's.
 *       Without one, targetless: serve the agent pod's own network. PODLINK_PROBE_PORTS (`8080,9901`):
 *       the ports of the target's HTTP probes, whose requests stay with the target's app
 *       (incoming/probes.ts); in the environment, which an agent of an older release ignores.
 *   node dist/agent/main.js --listen-fd FD --pid PID …
 *       that second step: serve on an inherited listening socket.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { logger } from '../common/log.js';
import { Link } from '../link/link.js';
import { traceToFile } from '../link/trace.js';
import { ContainerNotFound, findContainerPid, sharesNetns } from './container.js';
import { AgentListener } from './listen.js';
import { setProbePorts } from './incoming/probes.js';
import { redirectsGone } from './incoming/redirect.js';
import { AgentSession } from './session.js';
import { ownTarget, pidTarget } from './target.js';

const log = logger('agent');
traceToFile('agent');

// stdout may carry frames: nothing else may ever write to it.
console.log = console.info = console.debug = (...args: unknown[]) => process.stderr.write(args.join(' ') + '\n');

function fail(message: string, status = 2): never {
  process.stderr.write(`podlink agent: ${message}\n`);
  process.exit(status);
}

interface Args {
  pid?: number;
  listen?: number;
  listenFd?: number;
  containerId?: string;
  graceS: number;
  idleS: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { graceS: 15, idleS: 10 };
  const int = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) fail(`${flag} needs a number from ${min} to ${max}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    if (flag === '--pid') args.pid = int(flag, value, 1, 2 ** 22);
    else if (flag === '--listen') args.listen = int(flag, value, 1, 65535);
    else if (flag === '--listen-fd') args.listenFd = int(flag, value, 3, 65535);
    else if (flag === '--container-id') args.containerId = value ?? fail('--container-id needs an ID');
    else if (flag === '--grace') args.graceS = int(flag, value, 1, 86400);
    else if (flag === '--idle') args.idleS = int(flag, value, 1, 3600);
    else fail(`unknown argument ${flag}`);
  }
  return args;
}

/** PODLINK_PROBE_PORTS as numbers (what is not a port is left out, with a warning). */
function probePortsFromEnv(): number[] {
  const text = process.env['PODLINK_PROBE_PORTS'] ?? '';
  const ports = text.split(',').filter(Boolean).map(Number);
  const good = ports.filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
  if (good.length !== ports.length) log.warn(`PODLINK_PROBE_PORTS=${text}: only ports from 1 to 65535, comma-separated, are used`);
  return good;
}

/** A local pid target: one link on stdin/stdout, the session ends with the stream. */
function serveStdio(pid: number | undefined): void {
  const target = pid ? pidTarget(pid) : ownTarget();
  const link = new Link(process.stdin, process.stdout, undefined, { self: 'the agent', peer: 'the podlink CLI' });
  new AgentSession(link, target);
  log.debug('start', `agent ${process.pid} serving ${target.describe}`);
  process.on('SIGTERM', () => link.shutdown(new Error('SIGTERM')));
  link.on('close', (reason) => {
    log.debug('stop', `stream closed: ${reason?.message ?? 'end'}`);
    // Let Close frames flush and the redirect tables go, then exit: no timers or sockets may keep the
    // agent alive.
    void redirectsGone().then(() => process.exit(0));
  });
}

function serveNetwork(server: net.Server, pid: number | undefined, args: Args): void {
  const token = process.env['PODLINK_AGENT_TOKEN'];
  if (!token) fail('PODLINK_AGENT_TOKEN is not set: an agent reached over the network needs its session token');
  const target = pid ? pidTarget(pid) : ownTarget();
  const listener = new AgentListener(server, target, { token, graceMs: args.graceS * 1000, idleMs: args.idleS * 1000 }, (why) => {
    process.stderr.write(`podlink agent: exiting: ${why}\n`);
    void redirectsGone().then(() => process.exit(0));
  });
  process.stderr.write(`podlink agent: serving ${target.describe}\n`);
  process.on('SIGTERM', () => {
    listener.close();
    void redirectsGone().then(() => process.exit(0));
  });
}

async function listenOn(port: number): Promise<net.Server> {
  const server = net.createServer({ noDelay: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, resolve);
  });
  return server;
}

/** Run the rest of the session inside `pid`'s network namespace, on an inherited listening socket. */
function continueInNetns(server: net.Server, pid: number, args: Args): void {
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) fail('cannot hand the listening socket on (no file descriptor)');
  const argv = ['--listen-fd', '3', '--pid', String(pid), '--grace', String(args.graceS), '--idle', String(args.idleS)];
  const child = spawn('nsenter', [`--target=${pid}`, '--net', '--', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: ['ignore', 'inherit', 'inherit', fd],
  });
  server.close();
  child.once('error', (e) => fail(`cannot enter the target's network namespace: ${e.message}`, 1));
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  setProbePorts(probePortsFromEnv());
  // The terminal's Ctrl-C reaches the whole process group; the session ends when the intproxy says so.
  process.on('SIGINT', () => undefined);
  if (args.listenFd !== undefined) {
    const server = net.createServer({ noDelay: true });
    server.listen({ fd: args.listenFd });
    return serveNetwork(server, args.pid, args);
  }
  if (args.listen === undefined) return serveStdio(args.pid);

  let pid = args.pid;
  if (args.containerId !== undefined) {
    try {
      pid = findContainerPid(args.containerId);
    } catch (e) {
      if (e instanceof ContainerNotFound) fail(e.message, 1);
      throw e;
    }
  }
  const server = await listenOn(args.listen).catch((e: Error) => fail(`cannot listen on 127.0.0.1:${args.listen}: ${e.message}`, 1));
  if (pid !== undefined && !sharesNetns(pid)) return continueInNetns(server, pid, args);
  serveNetwork(server, pid, args);
}

await main();
