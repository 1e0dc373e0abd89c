/**
 * The laptop → agent transport: one TCP connection to a port inside a pod, through the API server's
 * port-forward, over one of two protocols (measured on the test cluster, README "cluster" figures):
 *
 * - a WebSocket (`v4.channel.k8s.io`, kube/portforward-ws.ts), the default: the runtime writes each
 *   message in one piece, so a small answer crosses the kubelet and the API server as one record;
 * - SPDY/3.1 as kubectl does it (kube/portforward-spdy.ts), with PODLINK_PORT_FORWARD=spdy: the
 *   connection passes through the API server and kubelet untouched, and the runtime's SPDY side costs
 *   the node less CPU per MB (bulk ~1.2× the WebSocket's here), but it writes every data frame in
 *   three pieces, which costs each small answer ~0.25 ms more on its way back. When the server does
 *   not take the SPDY upgrade (a proxy in the way), the WebSocket is used.
 *
 * There is no half-close on a port-forward stream: ending `output` sends nothing; close() ends it.
 */
import { Readable, type Writable } from 'node:stream';
import type { Kube } from './client.js';
import { KubeError, apiError, socketProblem, unreachable } from './errors.js';
import { SpdyUnavailable, openSpdyForward } from './portforward-spdy.js';
import { openWebSocketForward } from './portforward-ws.js';

export interface ForwardedStream {
  /** What carries it. */
  protocol: 'SPDY/3.1' | 'WebSocket';
  /** Bytes from the pod's port. Ends when the forward closes. */
  input: Readable;
  /** Bytes to the pod's port. */
  output: Writable;
  /** Closes the forward and its socket; `closed` then resolves with undefined. */
  close(): void;
  /**
   * Resolves once the forward is closed: undefined after close(), else the error — code
   * KUBE_PORTFORWARD_REFUSED when nothing listened on the port (retry later), KUBE_PORTFORWARD
   * for anything else (the API server's text included).
   */
  closed: Promise<Error | undefined>;
}

/** The error for a text on the error channel (the CRI's "failed to connect … connection refused"). */
export function forwardError(text: string, namespace: string, pod: string, port: number): KubeError {
  const line = text.replace(/\s+/g, ' ').trim();
  if (/connection refused|connect: connection refused|no such process/i.test(line) && /connect|dial/i.test(line)) {
    return new KubeError('KUBE_PORTFORWARD_REFUSED', `nothing listens on port ${port} in pod ${namespace}/${pod} (yet): ${line}`, 'the agent may still be starting; retry');
  }
  return new KubeError('KUBE_PORTFORWARD', `port-forward to ${namespace}/${pod}:${port} failed: ${line}`, 'check the pod is running');
}

/** The forward handed out; close() runs `shut` once (it ends the socket; `closed` then resolves). */
export function forwarded(protocol: ForwardedStream['protocol'], input: Readable, output: Writable, closed: Promise<Error | undefined>, shut: () => void): ForwardedStream {
  let shutDone = false;
  return {
    protocol,
    input,
    output,
    closed,
    close() {
      if (shutDone) return;
      shutDone = true;
      shut();
    },
  };
}

/**
 * A forward's `input`, fed by `push`: the source (the WebSocket, the SPDY socket) is paused when the
 * stream holds more than 1 MiB and resumed when it is read again. The stream asks for more after
 * nearly every chunk; only a source this side paused is resumed (ws's resume reaches down to the TLS
 * socket each time: 2,065 times in a 64 MiB download of 2,258 messages).
 */
export function pausingInput(source: () => { pause(): void; resume(): void } | undefined): { input: Readable; push(chunk: Buffer): void } {
  let paused = false;
  const input = new Readable({
    highWaterMark: 1 << 20,
    read() {
      if (!paused) return;
      paused = false;
      source()?.resume();
    },
  });
  const push = (chunk: Buffer): void => {
    if (chunk.length && !input.push(chunk) && !paused) {
      paused = true;
      source()?.pause();
    }
  };
  return { input, push };
}

/** A forward the other side ended, and how (`detail`). */
export function closedByPeer(namespace: string, pod: string, port: number, detail: string): KubeError {
  return new KubeError('KUBE_PORTFORWARD', `port-forward to ${namespace}/${pod}:${port} was closed by the other side${detail}`, 'the pod or the API server ended it; open it again');
}

/** Whether the next forwards try SPDY first: when asked, until the server refuses it once. */
let useSpdy = process.env['PODLINK_PORT_FORWARD'] === 'spdy';

export async function openPortForward(kube: Kube, namespace: string, pod: string, port: number): Promise<ForwardedStream> {
  if (useSpdy) {
    try {
      return await openSpdyForward(kube, namespace, pod, port);
    } catch (err) {
      if (!(err instanceof SpdyUnavailable)) throw err instanceof KubeError ? err : openError(err, kube, namespace, pod, port);
      useSpdy = false;
    }
  }
  return openWebSocketForward(kube, namespace, pod, port);
}

/** A failure to open the forward: both openers say "Unexpected server response: 403" for HTTP answers. */
export function openError(err: unknown, kube: Kube, namespace: string, pod: string, port: number): KubeError {
  const site = { verb: 'create', resource: 'pods/portforward', namespace, name: pod };
  const message = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
  if (status) {
    // (The SPDY opener keeps the API's Status body, which names the verb it refused.)
    return apiError({ code: Number(status), body: (err as { body?: unknown }).body }, kube, site, `pod/${pod} not found in namespace ${namespace}`);
  }
  const problem = socketProblem(err) ?? socketProblem((err as { error?: unknown })?.error);
  if (problem) return unreachable(kube, problem);
  return new KubeError('KUBE_PORTFORWARD', `port-forward to ${namespace}/${pod}:${port} failed: ${message.split('\n')[0]}`, `context ${kube.context}, server ${kube.server}`);
}
