/**
 * HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2) under a filtered steal, filtered per request like HTTP/2
 * with prior knowledge: the dispatcher takes the upgrade itself instead of giving the connection
 * wholly to one side.
 *
 *   client ── GET /x, Upgrade: h2c ──▶ dispatcher ── 101 Switching Protocols ──▶ client
 *   client ── preface, SETTINGS, streams 3, 5, … ──▶ dispatcher's HTTP/2 server (http2.ts)
 *
 * The upgrade request is stream 1 of the new connection, already half-closed by the client: it is
 * given to Node's HTTP/2 server as a HEADERS frame (END_STREAM) placed right after the client's
 * SETTINGS, so the server sees stream 1 as the client meant it and every stream, that one included,
 * goes to the first session whose filter takes it or to the original app (over HTTP/2 with prior
 * knowledge, as http2.ts does). The frame is HPACK literals without indexing: it changes neither
 * side's header table, so the client's own header blocks that follow decode as the client encoded
 * them.
 *
 * Taken only when nothing else is owed on the client connection (no earlier answer pending) and the
 * upgrade request has no body; otherwise the upgrade goes wholly to one side, as other upgrades do.
 */
import type net from 'node:net';
import type { Head } from './h1-framing.js';
import { H2_PREFACE } from './http2.js';

export const SWITCHING_TO_H2C = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n', 'latin1');

/** Headers that belong to the HTTP/1 connection, not to the request (RFC 7540 §8.1.2.2). */
const HOP = new Set(['connection', 'upgrade', 'http2-settings', 'host', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te']);
/** The largest frame a peer must accept before it says otherwise (SETTINGS_MAX_FRAME_SIZE's default). */
const MAX_FRAME = 16384;
const FRAME_HEADER = 9;
const SETTINGS = 4;

const header = (h: Head, name: string): string | undefined => h.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** HPACK integer with a 7-bit prefix (RFC 7541 §5.1). */
function hpackInt(n: number, out: number[]): void {
  if (n < 127) return void out.push(n);
  out.push(127);
  for (n -= 127; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) + 128);
  out.push(n);
}

/** One header as a literal without indexing, new name, no Huffman (RFC 7541 §6.2.2). */
function literal(name: string, value: string, out: number[]): void {
  out.push(0);
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  hpackInt(n.length, out);
  for (const b of n) out.push(b);
  hpackInt(v.length, out);
  for (const b of v) out.push(b);
}

/**
 * Stream 1's HEADERS frame for an h2c upgrade request, or undefined when this one is not taken here
 * (not `Upgrade: h2c`, no HTTP2-Settings, a body, a header block too large for one frame).
 */
export function stream1(h: Head): Buffer | undefined {
  if (!h.upgrade || !/^\s*h2c\s*$/i.test(header(h, 'upgrade') ?? '') || header(h, 'http2-settings') === undefined) return undefined;
  if (header(h, 'transfer-encoding') !== undefined || Number(header(h, 'content-length') ?? 0) !== 0) return undefined;
  const named = new Set((header(h, 'connection') ?? '').split(',').map((t) => t.trim().toLowerCase()));
  let path = h.target;
  let authority = header(h, 'host') ?? '';
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(path);
  if (absolute) {
    authority = absolute[1]!;
    path = absolute[2] || '/';
  }
  const block: number[] = [];
  literal(':method', h.method, block);
  literal(':scheme', 'http', block);
  if (authority) literal(':authority', authority, block);
  literal(':path', path, block);
  for (const [n, v] of h.headers) {
    const name = n.toLowerCase();
    if (HOP.has(name) || named.has(name)) {
      if (name === 'te' && v.trim().toLowerCase() === 'trailers') literal(name, 'trailers', block);
      continue;
    }
    literal(name, v, block);
  }
  if (block.length > MAX_FRAME) return undefined;
  const frame = Buffer.alloc(FRAME_HEADER + block.length);
  frame.writeUIntBE(block.length, 0, 3);
  frame[3] = 0x1; // HEADERS
  frame[4] = 0x1 | 0x4; // END_STREAM | END_HEADERS
  frame.writeUInt32BE(1, 5);
  Buffer.from(block).copy(frame, FRAME_HEADER);
  return frame;
}

/**
 * After the 101: reads the client's preface and its SETTINGS frame (`first`: bytes already read),
 * then calls `serve` with everything the client sent and stream 1's frame right after its SETTINGS.
 * A client that does not start with the preface and SETTINGS is cut.
 */
export function afterSwitch(socket: net.Socket, first: Buffer, frame: Buffer, serve: (head: Buffer) => void): void {
  let got = first;
  const cut = (): boolean => {
    socket.destroy();
    return true;
  };
  /** Whether it is decided (handed on or cut). */
  const check = (): boolean => {
    const n = Math.min(got.length, H2_PREFACE.length);
    if (!got.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return cut();
    const at = H2_PREFACE.length;
    if (got.length < at + FRAME_HEADER) return false;
    const length = got.readUIntBE(at, 3);
    if (got[at + 3] !== SETTINGS || length > MAX_FRAME) return cut();
    const end = at + FRAME_HEADER + length;
    if (got.length < end) return false;
    socket.pause();
    serve(Buffer.concat([got.subarray(0, end), frame, got.subarray(end)]));
    return true;
  };
  const onData = (d: Buffer): void => {
    got = got.length ? Buffer.concat([got, d]) : d;
    if (check()) stop();
  };
  const onEnd = (): void => void (cut(), stop());
  const stop = (): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
  };
  if (check()) return;
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.resume();
}
