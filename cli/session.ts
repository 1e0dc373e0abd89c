/**
 * The CLI's side of a session: it forks the intproxy (which starts the agent), asks it for the
 * target's environment, and stops both when the user's process is done. Nothing outlives it: the
 * intproxy exits when the CLI's IPC channel closes (even after `kill -9` of the CLI), and the agent
 * when the intproxy's stream ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentPodRef, AgentTransportSpec, IntproxyToCli } from '../intproxy/control.js';
import type { PortEvent } from '../intproxy/incoming.js';
import type { IncomingSettings } from '../intproxy/incoming-settings.js';
import { PodlinkError } from './errors.js';
import { intproxyEntry } from '../common/paths.js';
import { relayNodeFlags } from '../link/node-flags.js';

export interface SessionOptions {
  startupTimeoutMs: number;
  log: { file?: string; level: string };
  /** The agent session's token (an agent reached over the network). */
  token?: string;
  /** How long the intproxy keeps trying to reach the agent again after a dropped link. */
  reconnectGraceMs?: number;
  /** The agent's pod, deleted by the intproxy if the CLI does not live to do it. */
  agentPod?: AgentPodRef;
  /** feature.network.incoming, unless off. */
  incoming?: IncomingSettings;
}

export class Session {
  private lostHandlers: ((message: string) => void)[] = [];
  private lostMessage: string | undefined;

  /** Called when the link to the agent drops and when it is back (a pod's agent: reconnecting). */
  onLink: (event: Extract<IntproxyToCli, { type: 'linkDown' | 'linkUp' }>) => void = () => undefined;
  /** Called for each port of the app that was subscribed, or could not be. */
  onIncoming: (event: PortEvent) => void = () => undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly socketPath: string,
    private readonly dir: string,
    readonly agentPid: number,
    readonly agentBuild: string,
  ) {
    child.on('message', (m: IntproxyToCli) => {
      if (m.type === 'agentLost') this.lost(m.message);
      else if (m.type === 'linkDown' || m.type === 'linkUp') this.onLink(m);
      else if (m.type === 'incoming') this.onIncoming(m);
    });
    child.on('exit', () => this.lost('the intproxy exited'));
  }

  static async start(agent: AgentTransportSpec, opts: SessionOptions, abort?: AbortSignal): Promise<Session> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-'));
    fs.chmodSync(dir, 0o700);
    const socketPath = path.join(dir, 'intproxy.sock');
    // Its own process group: Ctrl-C in the terminal goes to the user's process, not to the intproxy.
    const child = fork(intproxyEntry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true, execArgv: [...process.execArgv, ...relayNodeFlags] });
    child.send({
      type: 'start',
      socketPath,
      agent,
      token: opts.token ?? '',
      startupTimeoutMs: opts.startupTimeoutMs,
      reconnectGraceMs: opts.reconnectGraceMs ?? 0,
      ...(opts.agentPod ? { agentPod: opts.agentPod } : {}),
      log: opts.log,
      ...(opts.incoming ? { incoming: opts.incoming } : {}),
    });
    try {
      const ready = await new Promise<Extract<IntproxyToCli, { type: 'ready' }>>((resolve, reject) => {
        child.on('message', (m: IntproxyToCli) => {
          if (m.type === 'ready') resolve(m);
          else if (m.type === 'failed') reject(new PodlinkError(m.code, m.message, m.hint));
        });
        child.once('exit', (code) => reject(new PodlinkError('intproxy_exit', `the intproxy exited during start-up (status ${code})`, 'run with PODLINK_DEBUG=1 to see why')));
        child.once('error', (e) => reject(new PodlinkError('intproxy_spawn', `cannot start the intproxy: ${e.message}`)));
        abort?.addEventListener('abort', () => reject(abort.reason), { once: true });
        if (abort?.aborted) reject(abort.reason);
      });
      return new Session(child, socketPath, dir, ready.agentPid, ready.agentBuild);
    } catch (e) {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The target's hostname ('' when it has none). */
  hostname(): Promise<string> {
    return new Promise((resolve) => {
      const onMessage = (m: IntproxyToCli): void => {
        if (m.type !== 'hostname') return;
        this.child.off('message', onMessage);
        resolve(m.name);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'getHostname' });
    });
  }

  /** The target's environment variables. */
  env(): Promise<{ name: string; value: string }[]> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: IntproxyToCli): void => {
        if (m.type === 'env') resolve(m.vars);
        else if (m.type === 'envFailed') reject(new PodlinkError('env_failed', `cannot read the target's environment: ${m.message}`));
        else return;
        this.child.off('message', onMessage);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'getEnv' });
    });
  }

  /** Called once if the agent (or the intproxy) goes away before stop(). */
  onLost(handler: (message: string) => void): void {
    if (this.lostMessage) handler(this.lostMessage);
    else this.lostHandlers.push(handler);
  }

  private lost(message: string): void {
    if (this.lostMessage !== undefined) return;
    this.lostMessage = message;
    for (const h of this.lostHandlers) h(message);
  }

  get lostReason(): string | undefined {
    return this.lostMessage;
  }

  /** Stop the intproxy (and so the agent) and remove the session's files. */
  async stop(): Promise<void> {
    this.lostMessage ??= 'stopped';
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'shutdown' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
