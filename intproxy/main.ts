/**
 * The intproxy: one per `podlink exec`. Forked by the CLI with an IPC channel, it starts the agent,
 * listens for the layers of the whole process tree on a unix socket and multiplexes them onto the one
 * agent link. It exits when the CLI says so or goes away; the agent, whose stream then ends, follows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { logger, logRaw, logToFile } from '../common/log.js';
import { Link, RemoteError } from '../link/link.js';
import { helloFrom } from '../link/hello.js';
import { Role } from '../protocol/spec.js';
import type { CliToIntproxy, IntproxyToCli, StartRequest } from './control.js';
import { LayerServer } from './layers.js';
import { IntproxyOutgoing } from './outgoing.js';

const log = logger('intproxy');

function tell(m: IntproxyToCli): void {
  process.send?.(m);
}

/** Last lines the agent wrote on stderr, to explain why it stopped. */
class Tail {
  private lines: string[] = [];
  push(chunk: Buffer): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    this.lines = this.lines.slice(-5);
  }
  toString(): string {
    return this.lines.join(' | ');
  }
}

let agentProcess: ChildProcess | undefined;
let agentLink: Link | undefined;
let layers: LayerServer | undefined;
let stopping = false;

async function start(req: StartRequest): Promise<void> {
  if (req.log.file) {
    try {
      logToFile(req.log.file, req.log.level);
    } catch (e) {
      tell({ type: 'failed', code: 'intproxy_log', message: `cannot write internal_proxy.log_destination ${req.log.file}: ${(e as Error).message}` });
      await stop(1);
      return;
    }
  }
  const [cmd, ...args] = req.agent.argv;
  const tail = new Tail();
  // Own process group: the terminal's Ctrl-C must not kill the agent under the user's process.
  agentProcess = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  agentProcess.stderr!.on('data', (c: Buffer) => {
    tail.push(c);
    logRaw(c);
    if (process.env['PODLINK_DEBUG'] === '1') process.stderr.write(c);
  });
  const exited = new Promise<string>((resolve) => {
    agentProcess!.once('error', (e) => resolve(`could not start ${cmd}: ${e.message}`));
    agentProcess!.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with status ${code}`));
  });
  const link = new Link(agentProcess.stdout!, agentProcess.stdin!);
  agentLink = link;
  const outgoing = new IntproxyOutgoing(link);

  const hello = link.request('Hello', helloFrom(Role.intproxy, 'intproxy'));
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${req.startupTimeoutMs / 1000} s`)), req.startupTimeoutMs).unref(),
  );
  let agentPid: number;
  try {
    const ok = await Promise.race([hello, timeout, exited.then((why) => Promise.reject(new Error(why)))]);
    if (ok.type !== 'HelloOk') throw new Error(`unexpected ${ok.type}`);
    agentPid = ok.agentPid;
  } catch (e) {
    const why = e instanceof RemoteError ? e.message : `${(e as Error).message}${tail.toString() ? `: ${tail}` : ''}`;
    tell({ type: 'failed', code: 'agent_start', message: `the agent did not start (${why})`, hint: 'run with PODLINK_DEBUG=1 to see its log' });
    await stop(1);
    return;
  }

  link.on('message', (m) => {
    if (m.type === 'Data' || m.type === 'Window' || m.type === 'Shutdown' || m.type === 'Close') outgoing.onAgentFrame(m);
  });
  link.on('close', () => outgoing.closeAll());
  void exited.then((why) => {
    link.shutdown(new Error(`agent ${why}`));
    if (!stopping) {
      const detail = tail.toString();
      tell({ type: 'agentLost', message: `the agent ${why}${detail ? ` (${detail})` : ''}` });
    }
  });

  layers = new LayerServer(link, outgoing, agentPid);
  try {
    await layers.listen(req.socketPath);
  } catch (e) {
    tell({ type: 'failed', code: 'intproxy_listen', message: `cannot listen on ${req.socketPath}: ${(e as Error).message}` });
    await stop(1);
    return;
  }
  log.debug('ready', `agent pid ${agentPid}, layers on ${req.socketPath}`);
  tell({ type: 'ready', agentPid });
}

async function getEnv(): Promise<void> {
  try {
    if (!agentLink) throw new Error('the agent is not running');
    const res = await agentLink.request('GetEnv', {});
    if (res.type !== 'Env') throw new Error(`unexpected ${res.type}`);
    tell({ type: 'env', vars: res.vars });
  } catch (e) {
    tell({ type: 'envFailed', message: (e as Error).message });
  }
}

/** Close the layers and the agent link, wait briefly for the agent to exit, then exit. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  layers?.close();
  agentLink?.shutdown();
  const agent = agentProcess;
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    const gone = new Promise<void>((resolve) => agent.once('exit', () => resolve()));
    const timer = setTimeout(() => agent.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
  process.exit(code);
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void stop(0));
process.on('disconnect', () => void stop(0));
process.on('message', (m: CliToIntproxy) => {
  if (m.type === 'start') void start(m);
  else if (m.type === 'getEnv') void getEnv();
  else if (m.type === 'shutdown') void stop(0);
});
