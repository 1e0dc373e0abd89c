/**
 * The intproxy: one per `podlink exec`. Forked by the CLI with an IPC channel, it reaches the agent
 * (spawning it for a `pid/` target, through the port-forward for a pod), listens for the layers of the
 * whole process tree on a unix socket and multiplexes them onto the one agent link. A dropped link to
 * a pod's agent is re-established; the connections relayed at that moment are reset. It exits when the
 * CLI says so or goes away — and then, if the CLI did not live to do it, deletes the agent's pod.
 */
import { E } from '../common/errno.js';
import { logger, logToFile } from '../common/log.js';
import { ConnTable } from '../link/conns.js';
import { RemoteError } from '../link/link.js';
import { traceToFile } from '../link/trace.js';
import { AgentLink, StartTimeout } from './agent-link.js';
import type { AgentPodRef, CliToIntproxy, IntproxyToCli, StartRequest } from './control.js';
import { IntproxyIncoming } from './incoming.js';
import { LayerServer } from './layers.js';
import { IntproxyOutgoing } from './outgoing.js';
import { makeTransport, type Transport } from './transports.js';

const log = logger('intproxy');
traceToFile('intproxy');

/** Heartbeat of a reconnecting link: a ping this often, dead after this long without a frame. */
const PING_MS = 2000;
const IDLE_MS = 8000;

function tell(m: IntproxyToCli): void {
  if (process.connected) process.send?.(m);
}

let transport: Transport | undefined;
let agent: AgentLink | undefined;
let layers: LayerServer | undefined;
let agentPod: AgentPodRef | undefined;
let stopping = false;

async function start(req: StartRequest): Promise<void> {
  agentPod = req.agentPod;
  if (req.log.file) {
    try {
      logToFile(req.log.file, req.log.level);
    } catch (e) {
      tell({ type: 'failed', code: 'intproxy_log', message: `cannot write internal_proxy.log_destination ${req.log.file}: ${(e as Error).message}` });
      await stop(1);
      return;
    }
  }
  transport = await makeTransport(req.agent);
  const link = new AgentLink(transport, { token: req.token, pingMs: PING_MS, idleMs: IDLE_MS, graceMs: req.reconnectGraceMs });
  agent = link;
  const conns = new ConnTable('intproxy', link);
  const outgoing = new IntproxyOutgoing(link, conns);
  const incoming = req.incoming ? new IntproxyIncoming(link, conns, req.incoming, (e) => tell({ type: 'incoming', ...e })) : undefined;
  link.routeConns((m) => conns.route(m));

  let info;
  try {
    info = await link.start(Date.now() + req.startupTimeoutMs);
  } catch (e) {
    tell(startFailure(e, transport.tail(), req));
    await stop(1);
    return;
  }

  link.on('message', (m) => {
    if (m.type === 'IncomingOpen' && incoming) incoming.open(m);
    else if (m.id !== 0) link.replyError(m, E.EOPNOTSUPP, `the intproxy does not serve ${m.type}`);
  });
  let resetAtDrop = 0;
  link.on('down', (why) => {
    resetAtDrop = conns.closeAll();
    if (!stopping && transport!.reconnects) tell({ type: 'linkDown', message: why });
  });
  link.on('up', ({ afterMs }) => {
    tell({ type: 'linkUp', afterMs, reset: resetAtDrop });
    incoming?.resubscribe();
  });
  link.on('lost', (why) => {
    conns.closeAll();
    if (stopping) return;
    const detail = transport!.tail();
    tell({ type: 'agentLost', message: `${why}${detail ? ` (${detail})` : ''}` });
  });

  layers = new LayerServer(link, outgoing, info.agentPid, incoming);
  try {
    await layers.listen(req.socketPath);
  } catch (e) {
    tell({ type: 'failed', code: 'intproxy_listen', message: `cannot listen on ${req.socketPath}: ${(e as Error).message}` });
    await stop(1);
    return;
  }
  log.debug('ready', `agent pid ${info.agentPid} (podlink ${info.build}) via ${transport.describe}, layers on ${req.socketPath}`);
  tell({ type: 'ready', agentPid: info.agentPid, agentBuild: info.build });
}

/** The one line for an agent that could not be reached at start. */
function startFailure(e: unknown, tail: string, req: StartRequest): Extract<IntproxyToCli, { type: 'failed' }> {
  const err = e as Error & { code?: unknown; hint?: string; final?: boolean };
  // An error of the cluster's own (RBAC, the pod gone) is already the line to show.
  if (err.final && typeof err.code === 'string') return { type: 'failed', code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  const why = e instanceof RemoteError ? err.message : `${err.message}${tail ? `: ${tail}` : ''}`;
  if (/protocol version mismatch/.test(why)) {
    return { type: 'failed', code: 'agent_version', message: `the agent cannot be used: ${why}`, hint: "use the agent image of this podlink release (agent.image), or a podlink CLI of the agent's release" };
  }
  if (e instanceof StartTimeout && req.agentPod) {
    return {
      type: 'failed',
      code: 'agent_timeout',
      message: `the agent in pod ${req.agentPod.namespace}/${req.agentPod.pod} did not answer (${why})`,
      hint: `raise agent.startup_timeout, or see why: kubectl logs -n ${req.agentPod.namespace} ${req.agentPod.pod}`,
    };
  }
  return { type: 'failed', code: 'agent_start', message: `the agent did not start (${why})`, hint: 'run with PODLINK_DEBUG=1 to see its log' };
}

async function getEnv(): Promise<void> {
  try {
    if (!agent) throw new Error('the agent is not running');
    const res = await agent.request('GetEnv', {});
    if (res.type !== 'Env') throw new Error(`unexpected ${res.type}`);
    tell({ type: 'env', vars: res.vars });
  } catch (e) {
    tell({ type: 'envFailed', message: (e as Error).message });
  }
}

/** The target's /etc/hostname, first line: what `hostname` says inside the pod. */
async function getHostname(): Promise<void> {
  let name = '';
  try {
    if (!agent) throw new Error('the agent is not running');
    const res = await agent.request('ReadFile', { path: '/etc/hostname', offset: 0n, max: 256 });
    if (res.type === 'FileData') name = Buffer.from(res.data).toString('utf8').split('\n')[0]!.trim();
  } catch (e) {
    log.debug('hostname', `the target's /etc/hostname: ${(e as Error).message}`);
  }
  // A name the kernel could hold (at most 64 bytes), or none.
  tell({ type: 'hostname', name: Buffer.byteLength(name) <= 64 ? name : '' });
}

/**
 * Close the layers and the agent link and stop the agent. When the CLI is gone (it was killed), the
 * agent's pod is deleted here; the CLI does it itself otherwise (both are idempotent).
 */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  layers?.close();
  await agent?.stop();
  if (agentPod && !process.connected) {
    const { deleteAgentPod } = await import('./port-forward.js');
    await deleteAgentPod(agentPod).catch((e: Error) => log.warn(`could not delete the agent pod ${agentPod!.pod}: ${e.message}`));
  }
  process.exit(code);
}

process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void stop(0));
process.on('disconnect', () => void stop(0));
process.on('message', (m: CliToIntproxy) => {
  if (m.type === 'start') void start(m);
  else if (m.type === 'getEnv') void getEnv();
  else if (m.type === 'getHostname') void getHostname();
  else if (m.type === 'shutdown') void stop(0);
});
