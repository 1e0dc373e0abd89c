/**
 * Port-forward over a WebSocket (client-node's PortForward, `v4.channel.k8s.io`): kube/portforward.ts's
 * default, and its fallback when the API server does not take the SPDY upgrade (kube/portforward-spdy.ts).
 *
 * Data flow: `output.write(bytes)` → one WebSocket message `[0x00 (data channel), bytes…]` → API
 * server → kubelet/CRI → connect to localhost:PORT in the pod's netns. Bytes back arrive as
 * messages on channel 0 (after a first message carrying only the 2-byte port number, which is
 * dropped) and are pushed to `input` without copying. Channel 1 carries errors: the CRI writes
 * one text there when it cannot connect (nothing listens yet) and then closes the WebSocket.
 *
 * Flow control: `input` pauses the WebSocket when its reader is slow; `output` holds its callback
 * while more than WRITE_BUFFER bytes wait in the socket, so a fast writer stalls instead of
 * buffering without bound. Each outgoing chunk is copied once to prepend the channel byte (ws
 * copies it again while masking; the protocol leaves no way around either).
 *
 * There is no half-close on a port-forward stream: ending `output` sends nothing; close() ends it.
 */
import { PassThrough, Writable } from 'node:stream';
import { PortForward } from '@kubernetes/client-node';
import type { Kube } from './client.js';
import { closedByPeer, forwardError, forwarded, openError, pausingInput, type ForwardedStream } from './portforward.js';

/** Bytes queued in the WebSocket beyond which `output` stops accepting (backpressure). */
const WRITE_BUFFER = 1 << 20;

/** The parts of ws's WebSocket used here (client-node returns one; its type is not exported). */
interface Socket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Buffer, options: { binary: boolean }, cb?: (err?: Error) => void): void;
  close(code?: number): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

const OPEN = 1;

export async function openWebSocketForward(kube: Kube, namespace: string, pod: string, port: number): Promise<ForwardedStream> {
  let ws: Socket | undefined;
  let errorText = '';
  let closedByUs = false;
  let settle!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (settle = r));

  const { input, push } = pausingInput(() => ws);
  // PortForward only calls write() on its two outputs, once per message: plain sinks, not Writables
  // (a stream's bookkeeping per message is most of what it would cost on the hot path).
  // Channel 0 (port prefix already stripped): into `input`, pausing the WebSocket when full.
  const dataSink = {
    write(chunk: Buffer): boolean {
      push(chunk);
      return true;
    },
  };
  // Channel 1: the CRI's error text, kept for `closed`.
  const errorSink = {
    write(chunk: Buffer): boolean {
      errorText += chunk.toString('utf8');
      return true;
    },
  };

  // Chunks written while the socket is busy are sent together, as one message: the copy that
  // prepends the channel byte concatenates them too, and fewer, larger messages cost less.
  const send = (chunks: Buffer[], cb: (err?: Error | null) => void) => {
    const socket = ws;
    if (!socket || socket.readyState !== OPEN) {
      // Closing: the bytes go nowhere, and `closed` says why (no 'error' event nobody listens to).
      cb();
      return;
    }
    let length = 1;
    for (const c of chunks) length += c.length;
    const frame = Buffer.allocUnsafe(length);
    frame[0] = 0;
    let at = 1;
    for (const c of chunks) at += c.copy(frame, at);
    const full = socket.bufferedAmount + length > WRITE_BUFFER;
    socket.send(frame, { binary: true }, full ? (err) => cb(err ?? null) : undefined);
    if (!full) cb();
  };
  const output = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      send([chunk], cb);
    },
    writev(entries, cb) {
      send(entries.map((e) => e.chunk as Buffer), cb);
    },
  });

  // PortForward wires its `input` to send; ours sends itself (with backpressure), so it gets a
  // stream that never yields. Data and errors come back through the two sinks.
  const idle = new PassThrough();
  const pf = new PortForward(kube.kc, true);
  try {
    ws = (await pf.portForward(namespace, pod, [port], dataSink as unknown as Writable, errorSink as unknown as Writable, idle)) as unknown as Socket;
  } catch (err) {
    throw openError(err, kube, namespace, pod, port);
  }
  const socket = ws;
  socket.on('error', () => undefined); // the 'close' that follows reports it
  socket.on('close', (code) => {
    const err = closedByUs
      ? undefined
      : errorText
        ? forwardError(errorText, namespace, pod, port)
        : closedByPeer(namespace, pod, port, ` (WebSocket code ${code})`);
    settle(err);
    input.push(null);
    output.destroy();
    idle.destroy();
  });
  return forwarded('WebSocket', input, output, closed, () => {
    closedByUs = true;
    if (socket.readyState === OPEN) socket.close(1000);
    // A server that does not answer the close handshake must not keep the socket alive.
    setTimeout(() => socket.terminate(), 2000).unref();
    if (socket.readyState > OPEN) settle(undefined);
  });
}
