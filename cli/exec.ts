/**
 * `podlink exec`: load the config, resolve the target, start the session (agent + intproxy), fetch
 * the target's environment, then run the user's command with the layer preloaded and wait for it.
 * Everything that can fail is checked before the cluster or the target is touched; whatever was
 * started is stopped on every way out (the agent's pod deleted, the intproxy stopped).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, refusedValues, unavailableFeatures, type PodlinkConfig } from '../config/load.js';
import { findCommand } from './command-path.js';
import { mergeEnv, readEnvFile } from './env.js';
import { PodlinkError, errorLine } from './errors.js';
import { cleanupKube, kubeSteps, type KubeCtx } from './kube-launch.js';
import { recordPort } from './kube-sessions.js';
import { layerEnv } from './layer-env.js';
import { layerLibrary, packageRoot, supervisorBinary } from '../common/paths.js';
import { choosePath, type PathChoice } from './program-path.js';
import { jsonEvent, runSteps, type OutputMode, type Step } from './progress.js';
import { Session, type SessionOptions } from './session.js';
import { incomingSettings } from '../intproxy/incoming-settings.js';
import { sessionOwner } from './owner.js';
import type { PortEvent } from '../intproxy/incoming.js';
import { ExecSignals } from './signals.js';
import { pidTarget } from './target.js';

export interface ExecRequest {
  command: string[];
  configFile?: string;
  /** Raw config built from the command-line flags; it wins over the file. */
  overrides: Record<string, unknown>;
  output: OutputMode;
  cwd: string;
  env: Record<string, string | undefined>;
  stderr: NodeJS.WritableStream;
}

interface StartCtx extends KubeCtx {
  remoteEnv: { name: string; value: string }[];
  /** The target's hostname (feature.hostname), '' for the real one. */
  hostname: string;
}

/** Exit status of a child the way a shell reports it. */
function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? os.constants.signals[signal] : 0);
}

function checkAvailable(config: PodlinkConfig): void {
  const [refused] = refusedValues(config);
  if (refused) throw new PodlinkError('value_refused', `${refused.key} = ${JSON.stringify(refused.value)} is refused: ${refused.reason}`, refused.hint);
  const keys = unavailableFeatures(config);
  if (keys.length > 0) {
    throw new PodlinkError(
      'feature_unavailable',
      `${keys.join(', ')} ${keys.length > 1 ? 'are' : 'is'} set, but ${keys.length > 1 ? 'these features are' : 'this feature is'} not available in podlink yet`,
      'remove the key(s) or set them back to the default; `podlink verify-config` shows the effective config',
    );
  }
}

/** Start-up timeout and the intproxy's log (a destination ending in `/` is a directory). */
function sessionOptions(config: PodlinkConfig, cwd: string): SessionOptions {
  const dest = config.internal_proxy.log_destination;
  const file = dest === undefined ? undefined : dest.endsWith('/') ? path.resolve(cwd, dest, `podlink-intproxy-${process.pid}.log`) : path.resolve(cwd, dest);
  const incoming = config.feature.network.incoming;
  return {
    startupTimeoutMs: config.agent.startup_timeout * 1000,
    log: { file, level: config.internal_proxy.log_level },
    ...(incoming.mode !== 'off' ? { incoming: incomingSettings({ ...incoming, mode: incoming.mode }, sessionOwner()) } : {}),
  };
}

/** The line for a port of the app: what the target's port now does, or why it does not. */
export function portLine(e: PortEvent): string {
  const where = e.remotePort === e.port ? `port ${e.port}` : `port ${e.port} (the target's port ${e.remotePort})`;
  if (e.released) return `${where} given back to the target (the app stopped listening)`;
  if (e.error) return `${where} stays local: ${e.error}`;
  if (e.local) return `${where} stays local: ${e.local}`;
  const what = e.mode === 'mirror' ? 'mirrored: the app gets a copy of its traffic, the target keeps answering' : e.filter ? `stolen: requests matching ${e.filter}` : 'stolen: all its traffic';
  return `${where} ${what}`;
}

/** A local process as the target: the agent runs on this machine, in its network namespace. */
function pidSteps(config: PodlinkConfig, session: SessionOptions, abort: AbortSignal): Step<StartCtx>[] {
  const target = pidTarget(config.target.path!);
  return [
    { id: 'target', title: `Resolving target ${target.describe}`, run: async (_c, done) => done(`Target ${target.describe}`) },
    {
      id: 'agent-ready',
      title: 'Starting the agent',
      run: async (c, done) => {
        c.session = await Session.start({ kind: 'spawn', argv: target.agentArgv }, session, abort);
        done(`Agent ready (pid ${c.session.agentPid})`);
      },
    },
  ];
}

export async function runExec(req: ExecRequest): Promise<number> {
  const t0 = Date.now();
  const { config, source, notices } = await loadConfig({ file: req.configFile, cwd: req.cwd, env: req.env, overrides: req.overrides });
  for (const n of notices) req.stderr.write(`podlink: ${n}\n`);
  checkAvailable(config);
  const [cmd, ...args] = req.command;
  const program = findCommand(cmd!, req.env['PATH'], req.cwd);
  if (!fs.existsSync(layerLibrary)) {
    throw new PodlinkError('layer_missing', `the podlink layer is missing for ${process.arch} (${layerLibrary})`, `build it with this machine's C compiler: make -C ${path.join(packageRoot, 'layer')} runtime`);
  }
  // Layer or supervisor: decided (and refused, when neither can serve it) before anything starts.
  const choice = choosePath(program, req.env['PODLINK_EXEC_PATH']);
  const fileVars = config.feature.env.env_file ? readEnvFile(config.feature.env.env_file, req.cwd) : {};

  const signals = new ExecSignals();
  const ctx: StartCtx = { remoteEnv: [], hostname: '' };
  const opts = sessionOptions(config, req.cwd);
  const local = config.target.path?.startsWith('pid/') ?? false;
  const configStep: Step<StartCtx> = {
    id: 'config',
    title: 'Loading the config',
    run: async (_c, done) => done(source ? `Config ${path.relative(req.cwd, source) || source}` : 'Config: defaults (no config file)'),
  };
  const pathStep: Step<StartCtx> = {
    id: 'path',
    title: 'Choosing how to serve the program',
    run: async (_c, done) => done(`Path: ${choice.path} (${path.basename(program)}: ${choice.reason})`),
  };
  const envStep: Step<StartCtx> = {
    id: 'env',
    title: 'Fetching the environment',
    run: async (c, done) => {
      // Targetless, the agent's pod is no pod the program means to be: its hostname stays the laptop's.
      const hostname = config.feature.hostname && config.target.path ? c.session!.hostname() : Promise.resolve('');
      if (config.feature.env.enabled) c.remoteEnv = await Promise.race([c.session!.env(), signals.aborted()]);
      c.hostname = await Promise.race([hostname, signals.aborted()]);
      const host = c.hostname ? `; hostname ${c.hostname}` : '';
      done(config.feature.env.enabled ? `Environment fetched (${c.remoteEnv.length} variables in the target${host})` : `Environment: remote variables off (feature.env)${host}`);
    },
  };
  const launch = local ? pidSteps(config, opts, signals.signal) : kubeSteps(config, opts, signals.signal);
  const warn = (line: string): void => void req.stderr.write(line + '\n');
  try {
    await runSteps(ctx, [configStep, pathStep, ...launch, envStep], req.output);
    if (signals.signal.aborted) throw signals.signal.reason;
  } catch (e) {
    // Signals stay handled until the clean-up is done: a Ctrl-C now must not cut it short.
    await ctx.session?.stop();
    await cleanupKube(ctx, warn);
    signals.dispose();
    throw e;
  }
  const session = ctx.session!;

  const env = mergeEnv(req.env, ctx.remoteEnv, config.feature.env, fileVars);
  Object.assign(
    env,
    layerEnv(config.feature, {
      socketPath: session.socketPath,
      localPrefixes: [req.cwd, os.homedir()],
      currentPreload: req.env['LD_PRELOAD'],
      hostname: ctx.hostname,
    }),
  );
  if (req.output === 'json') jsonEvent('running', { command: req.command, path: choice.path, kind: choice.kind, ms: Date.now() - t0 });
  else if (req.output === 'tree') req.stderr.write(`podlink: running ${req.command.join(' ')} (served by the ${choice.path})\n`);
  try {
    // A lost agent serves nothing any more: delete its pod now, not when the process ends.
    const hooks = {
      onLost: () => void cleanupKube(ctx, warn),
      onTaken: (e: PortEvent) => recordPort(ctx, e.remotePort, true, warn),
      onReleased: (e: PortEvent) => recordPort(ctx, e.remotePort, false, warn),
    };
    return await runChild(choice, program, cmd!, args, env, req, session, signals, hooks);
  } finally {
    // The program has ended; a Ctrl-C during the clean-up (the terminal's, or one meant for the
    // program that came late) is ignored, so podlink finishes it and exits as the program did.
    await session.stop();
    await cleanupKube(ctx, warn);
    signals.dispose();
  }
}

async function runChild(
  choice: PathChoice,
  program: string,
  argv0: string,
  args: string[],
  env: Record<string, string>,
  req: ExecRequest,
  session: Session,
  signals: ExecSignals,
  hooks: { onLost: () => void; onTaken: (e: PortEvent) => void; onReleased: (e: PortEvent) => void },
): Promise<number> {
  // The supervisor runs the program as its child and exits as it does (supervisor/README.md).
  const child =
    choice.path === 'supervisor'
      ? spawn(supervisorBinary, ['run', program, '--', argv0, ...args], { env, cwd: req.cwd, stdio: 'inherit' })
      : spawn(program, args, { argv0, env, cwd: req.cwd, stdio: 'inherit' });
  signals.attach(child);
  let agentLost: string | undefined;
  const say = (event: string, fields: Record<string, unknown>, line: string): void => {
    if (req.output === 'json') jsonEvent(event, fields);
    else req.stderr.write(`podlink: ${line}\n`);
  };
  session.onLost((message) => {
    agentLost = message;
    say('agent-lost', { message }, `${message}; the process's remote calls now fail (its DNS, connections and remote files)`);
    hooks.onLost();
  });
  let conflict: string | undefined;
  session.onIncoming = (e) => {
    const { type: _type, ...fields } = e as PortEvent & { type?: string };
    if (req.output === 'json') jsonEvent('incoming', fields);
    if (e.released) hooks.onReleased(e);
    else if (!e.error && !e.local) hooks.onTaken(e);
    if (e.conflict) {
      // on_concurrent_steal "abort": another session holds the port; this one ends, nobody's traffic moved.
      if (conflict !== undefined) return;
      conflict = `${e.error}; this session ends (on_concurrent_steal "abort"; "continue" would leave the port local)`;
      if (req.output !== 'json') req.stderr.write(`podlink: ${conflict}\n`);
      child.kill('SIGTERM');
    } else if (req.output === 'tree' || e.error) req.stderr.write(`podlink: ${portLine(e)}\n`);
  };
  session.onLink = (e) => {
    if (req.output === 'quiet') return;
    if (e.type === 'linkDown') say('link-down', { message: e.message }, `the link to the agent dropped (${e.message}); reconnecting…`);
    else say('link-up', { ms: e.afterMs, reset: e.reset }, `reconnected to the agent after ${(e.afterMs / 1000).toFixed(1)} s (${e.reset} open connection${e.reset === 1 ? ' was' : 's were'} reset)`);
  };
  const status = await new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(new PodlinkError('spawn_failed', `cannot run ${argv0}: ${e.message}`)));
    child.once('exit', (code, signal) => resolve(statusOf(code, signal)));
  });
  if (conflict !== undefined) return 1;
  return agentLost !== undefined && status === 0 ? 1 : status;
}

/** Run exec and turn any failure into the one line the user sees and an exit status. */
export async function execMain(req: ExecRequest): Promise<number> {
  try {
    return await runExec(req);
  } catch (e) {
    if (req.output === 'json') {
      const err = e as { code?: unknown; message?: unknown; hint?: unknown };
      jsonEvent('error', { code: err.code ?? 'internal', message: err.message ?? String(e), ...(err.hint ? { hint: err.hint } : {}) });
    }
    req.stderr.write(errorLine(e) + '\n');
    const code = (e as { exitCode?: unknown }).exitCode;
    return typeof code === 'number' ? code : 1;
  }
}
