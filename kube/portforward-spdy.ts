/**
 * Port-forward over SPDY/3.1, as kubectl did it before tunnelling it in a WebSocket: an HTTPS `GET …/pods/NAME/portforward`
 * with `Upgrade: SPDY/3.1` and `X-Stream-Protocol-Version: portforward.k8s.io`, credentials from
 * @kubernetes/client-node (`applyToHTTPSOptions`). The API server and the kubelet pass the upgraded
 * connection through untouched to the container runtime's streaming server, which speaks SPDY
 * (kube/spdy.ts). On it we open the two streams of one forward — `streamtype: error`, then
 * `streamtype: data`, both with `port` and `requestid` — and relay bytes on the data stream.
 *
 * Chosen with PODLINK_PORT_FORWARD=spdy (kube/portforward.ts says when it pays: bulk).
 *
 * The error stream carries the runtime's text when it cannot connect to the port (nothing listens
 * yet), after which it ends both streams. The data stream's end (FIN or RST) ends the forward.
 */
import https from 'node:https';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { Socket } from 'node:net';
import type { Kube } from './client.js';
import { KubeError } from './errors.js';
import { FLAG_FIN, Frame, FrameParser, HeaderWriter, MAX_DATA, dataHeader, goAway, ping, synStream } from './spdy.js';
import { closedByPeer, forwardError, forwarded, pausingInput, type ForwardedStream } from './portforward.js';

/** How long the error text may trail the data stream's reset. */
const ERROR_GRACE_MS = 250;
const ERROR_STREAM = 1;
const DATA_STREAM = 3;

/** The server did not switch to SPDY (a proxy in the way, or a server without it): use the WebSocket. */
export class SpdyUnavailable extends Error {}

/** HTTP answers that are about the request (RBAC, no such pod), not about the protocol. */
const FINAL_STATUS = new Set([401, 403, 404]);

/** Resolves to the upgraded socket (and bytes already read past the 101), or rejects. */
async function upgrade(kube: Kube, path: string): Promise<{ socket: Socket; head: Buffer }> {
  const opts: https.RequestOptions = {};
  await kube.kc.applyToHTTPSOptions(opts);
  const url = new URL(kube.server.replace(/\/+$/, '') + path); // (a server URL may have a path: a proxy's prefix)
  const headers = { ...(opts.headers as Record<string, string> | undefined), Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' };
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { ...opts, method: 'GET', headers });
    req.setTimeout(30_000, () => req.destroy(Object.assign(new Error(`no answer within 30 s from ${kube.server}`), { code: 'ETIMEDOUT' })));
    req.on('upgrade', (res, socket, head) => {
      socket.setTimeout(0); // the request's deadline was for the answer, not for the forward
      if (res.statusCode === 101 && /spdy\/3\.1/i.test(String(res.headers.upgrade))) return resolve({ socket: socket as Socket, head });
      socket.destroy();
      reject(new SpdyUnavailable(`the API server upgraded to ${res.headers.upgrade ?? 'nothing'}`));
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => void (body += c));
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        reject(FINAL_STATUS.has(code) ? Object.assign(new Error(`Unexpected server response: ${code}`), { code, body }) : new SpdyUnavailable(`HTTP ${code} to the SPDY upgrade`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export async function openSpdyForward(kube: Kube, namespace: string, pod: string, port: number): Promise<ForwardedStream> {
  const { socket, head } = await upgrade(kube, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward`);
  socket.setNoDelay(true);
  let errorText = '';
  let closedByUs = false;
  let ended: Error | undefined;
  let settle!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (settle = r));
  // spdystream drops data on a stream it has not answered yet: nothing is sent before the reply.
  let replied!: () => void;
  const reply = new Promise<void>((r) => (replied = r));

  const { input, push } = pausingInput(() => socket);
  const end = (why?: Error): void => {
    ended ??= why;
    socket.destroy();
  };
  // The data stream's end (FIN or RST) ends the forward once the error stream has said its part:
  // spdystream sends resets and FINs at once but queues data, so the runtime's error text, written
  // first, may come after them. It is waited for until the error stream ends, or ERROR_GRACE_MS.
  let dataDone = false;
  let errorDone = false;
  const settled = (): void => {
    if (!dataDone) return;
    if (errorDone || errorText) end();
    else setTimeout(end, ERROR_GRACE_MS).unref();
  };
  const streamEnded = (stream: number): void => {
    if (stream === DATA_STREAM) dataDone = true;
    else if (stream === ERROR_STREAM) errorDone = true;
    else return;
    settled();
  };
  const parser = new FrameParser({
    data(stream, bytes, fin) {
      if (stream === DATA_STREAM) {
        push(bytes);
      } else if (stream === ERROR_STREAM) {
        errorText += bytes.toString('utf8');
      }
      if (fin) streamEnded(stream);
      else if (stream === ERROR_STREAM && dataDone) settled();
    },
    control(type, flags, payload) {
      const stream = payload.length >= 4 ? payload.readUInt32BE(0) & 0x7fffffff : 0;
      if (type === Frame.Ping && payload.length >= 4) socket.write(ping(payload.readUInt32BE(0)));
      else if (type === Frame.RstStream) streamEnded(stream);
      else if (type === Frame.GoAway) end();
      else if (type === Frame.SynReply && stream === DATA_STREAM) replied();
      if ((type === Frame.SynReply || type === Frame.Headers) && flags & FLAG_FIN) streamEnded(stream);
      // SETTINGS, WINDOW_UPDATE, other replies and headers: nothing to do.
    },
  });
  /** Writes chunks as data frames; true while the socket takes more. */
  const send = (chunks: Buffer[]): boolean => {
    let ok = true;
    socket.cork();
    for (const c of chunks) {
      for (let at = 0; at < c.length; at += MAX_DATA) {
        const piece = at === 0 && c.length <= MAX_DATA ? c : c.subarray(at, at + MAX_DATA);
        socket.write(dataHeader(DATA_STREAM, 0, piece.length));
        ok = socket.write(piece);
      }
    }
    socket.uncork();
    return ok;
  };
  const output = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (send([chunk]) || socket.destroyed) cb();
      else socket.once('drain', () => cb());
    },
    writev(entries, cb) {
      if (send(entries.map((e) => e.chunk as Buffer)) || socket.destroyed) cb();
      else socket.once('drain', () => cb());
    },
  });

  socket.on('data', (chunk: Buffer) => {
    try {
      parser.push(chunk);
    } catch (e) {
      end(e as Error);
    }
  });
  socket.on('error', (e) => void (ended ??= e));
  socket.on('close', () => {
    const err = closedByUs
      ? undefined
      : errorText
        ? forwardError(errorText, namespace, pod, port)
        : closedByPeer(namespace, pod, port, ended ? ` (${ended.message})` : '');
    settle(err);
    input.push(null);
    output.destroy();
  });

  // The two streams of the forward; the error stream is only read (our side of it closed at once).
  const headers = new HeaderWriter();
  const ids = { port: String(port), requestid: '0' };
  socket.cork();
  socket.write(synStream(ERROR_STREAM, FLAG_FIN, headers.block({ streamtype: 'error', ...ids })));
  socket.write(synStream(DATA_STREAM, 0, headers.block({ streamtype: 'data', ...ids })));
  socket.uncork();
  if (head.length) parser.push(head);
  const err = await Promise.race([reply.then(() => undefined), closed.then((e) => e ?? new KubeError('KUBE_PORTFORWARD', `port-forward to ${namespace}/${pod}:${port} closed before it was set up`))]);
  if (err) throw err;

  return forwarded('SPDY/3.1', input, output, closed, () => {
    closedByUs = true;
    if (socket.destroyed) return settle(undefined);
    socket.end(goAway(DATA_STREAM));
    // A server that does not close its side must not keep the socket alive.
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}
