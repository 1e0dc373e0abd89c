/**
 * How the intproxy reaches the agent, side by side behind one interface:
 *
 *   spawn         start the agent as a child and speak on its stdin/stdout (a `pid/` target: the agent
 *                 runs under nsenter on this machine). The agent's life is the pipe's: no reconnect.
 *   port-forward  the agent in a pod, through the API server's port-forward (a cluster target or
 *                 targetless). A dropped port-forward is opened again to the same agent.
 *   tcp           the agent listening on an address this machine reaches directly (an agent in a
 *                 network namespace of the netns tests, or a pod IP the laptop can route to).
 *
 * `open` gives one byte stream; the caller (AgentConnection) speaks the protocol over it, and opens
 * again when a reconnecting transport's stream ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { logRaw } from '../common/log.js';
import type { AgentTransportSpec } from './control.js';

export interface AgentStream {
  input: Readable;
  output: Writable;
  /** Tear the stream down (idempotent). */
  close(): void;
}

export interface Transport {
  readonly describe: string;
  /** Whether a stream that ended can be opened again to the same agent. */
  readonly reconnects: boolean;
  open(): Promise<AgentStream>;
  /** Resolves with why the agent itself is gone (spawn: the process exited); never for remote agents. */
  readonly gone: Promise<string>;
  /** Last lines the agent wrote on stderr (spawn only), to explain a failure. */
  tail(): string;
  /** Stop the agent if this transport owns it (spawn), waiting briefly for it to go. */
  stop(): Promise<void>;
}

/** Last lines of a stream, to explain why something stopped. */
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

const never = new Promise<string>(() => undefined);

class SpawnTransport implements Transport {
  readonly reconnects = false;
  readonly describe: string;
  readonly gone: Promise<string>;
  private readonly child: ChildProcess;
  private readonly stderrTail = new Tail();

  constructor(argv: string[]) {
    const [cmd, ...args] = argv;
    this.describe = `agent process (${cmd})`;
    // Own process group: the terminal's Ctrl-C must not kill the agent under the user's process.
    this.child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stderr!.on('data', (c: Buffer) => {
      this.stderrTail.push(c);
      logRaw(c);
      if (process.env['PODLINK_DEBUG'] === '1') process.stderr.write(c);
    });
    this.gone = new Promise<string>((resolve) => {
      this.child.once('error', (e) => resolve(`could not start ${cmd}: ${e.message}`));
      this.child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with status ${code}`));
    });
  }

  async open(): Promise<AgentStream> {
    const child = this.child;
    return { input: child.stdout!, output: child.stdin!, close: () => child.stdin!.end() };
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  tail(): string {
    return this.stderrTail.toString();
  }

  async stop(): Promise<void> {
    const agent = this.child;
    if (agent.exitCode !== null || agent.signalCode !== null) return;
    agent.stdin?.end();
    const timer = setTimeout(() => agent.kill('SIGKILL'), 3000);
    await this.gone;
    clearTimeout(timer);
  }
}

class TcpTransport implements Transport {
  readonly reconnects = true;
  readonly describe: string;
  readonly gone = never;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.describe = `agent at ${host}:${port}`;
  }

  open(): Promise<AgentStream> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve({ input: socket, output: socket, close: () => socket.destroy() });
      });
    });
  }

  tail(): string {
    return '';
  }

  async stop(): Promise<void> {}
}

/** The transport a start request names. Port-forward needs the cluster code, loaded only then. */
export async function makeTransport(spec: AgentTransportSpec): Promise<Transport> {
  switch (spec.kind) {
    case 'spawn':
      return new SpawnTransport(spec.argv);
    case 'tcp':
      return new TcpTransport(spec.host, spec.port);
    case 'port-forward': {
      const { PortForwardTransport } = await import('./port-forward.js');
      return new PortForwardTransport(spec);
    }
  }
  throw new Error(`Assertion failed: unknown transport ${(spec as { kind: string }).kind}`);
}
