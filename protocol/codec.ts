/**
 * Encoder and decoder for the frames defined in spec.ts. Table-driven: the spec is walked field by
 * field, so adding a message means editing spec.ts only.
 */
import { bytesToIp, ipToBytes } from '../common/ipaddr.js';
import { HEADER_AFTER_LENGTH, MAX_FRAME, PROTOCOL_VERSION, messages, type FieldType, type MessageName } from './spec.js';
import type { Addr, Message, MessageOf } from './types.js';
import { ProtocolError, VersionMismatch } from './errors.js';
import { PODLINK_BUILD } from './build.js';

const byCode = new Map<number, MessageName>();
for (const [name, def] of Object.entries(messages) as [MessageName, (typeof messages)[MessageName]][]) {
  if (byCode.has(def.code)) throw new Error(`Assertion failed: duplicate protocol code ${def.code}`);
  byCode.set(def.code, name);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------------
// Encoding

class Writer {
  private buf = Buffer.allocUnsafe(256);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  u8(v: number): void { this.ensure(1); this.buf.writeUInt8(v, this.len); this.len += 1; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16LE(v, this.len); this.len += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v, this.len); this.len += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v, this.len); this.len += 4; }
  u64(v: bigint): void { this.ensure(8); this.buf.writeBigUInt64LE(v, this.len); this.len += 8; }
  i64(v: bigint): void { this.ensure(8); this.buf.writeBigInt64LE(v, this.len); this.len += 8; }
  raw(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  patchU32(at: number, v: number): void { this.buf.writeUInt32LE(v, at); }
  result(): Buffer { return this.buf.subarray(0, this.len); }
}

function encodeAddr(w: Writer, a: Addr): void {
  const bytes = addrBytes(a);
  w.u8(a.family);
  w.u16(a.port);
  w.raw(bytes);
}

/** The 4 or 16 raw bytes of an address; throws on a text form that does not match its family. */
export function addrBytes(a: Addr): Buffer {
  const bytes = ipToBytes(a.family, a.ip);
  if (!bytes) throw new Error(`Assertion failed: address ${a.ip} is not IPv${a.family}`);
  return bytes;
}

function encodeField(w: Writer, type: FieldType, value: unknown, path: string): void {
  if (typeof type === 'object') {
    if ('list' in type) {
      const items = value as unknown[];
      w.u32(items.length);
      items.forEach((item, i) => encodeField(w, type.list, item, `${path}[${i}]`));
      return;
    }
    const obj = value as Record<string, unknown>;
    for (const [k, t] of Object.entries(type.struct)) encodeField(w, t, obj[k], `${path}.${k}`);
    return;
  }
  switch (type) {
    case 'u8': return w.u8(value as number);
    case 'u16': return w.u16(value as number);
    case 'u32': return w.u32(value as number);
    case 'i32': return w.i32(value as number);
    case 'u64': return w.u64(value as bigint);
    case 'i64': return w.i64(value as bigint);
    case 'bool': return w.u8(value ? 1 : 0);
    case 'str': {
      const b = Buffer.from(value as string, 'utf8');
      w.u32(b.length);
      return w.raw(b);
    }
    case 'bytes': {
      const b = value as Uint8Array;
      w.u32(b.length);
      return w.raw(b);
    }
    case 'addr': return encodeAddr(w, value as Addr);
  }
}

/** Encode one message as a complete frame (length prefix included). */
export function encode(msg: Message): Buffer {
  const def = messages[msg.type];
  const w = new Writer();
  w.u32(0);
  w.u16(def.code);
  w.u32(msg.id);
  const fields = def.fields as Record<string, FieldType>;
  for (const [k, t] of Object.entries(fields)) encodeField(w, t, (msg as unknown as Record<string, unknown>)[k], `${msg.type}.${k}`);
  const len = w.len - 4;
  if (len > MAX_FRAME) throw new ProtocolError('frame_too_large', `${msg.type} frame of ${len} bytes exceeds ${MAX_FRAME}`);
  w.patchU32(0, len);
  return w.result();
}

/** Build a message with type checking on its fields. */
export function msg<N extends MessageName>(type: N, id: number, fields: Omit<MessageOf<N>, 'type' | 'id'>): MessageOf<N> {
  return { type, id, ...fields } as MessageOf<N>;
}

// ---------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  constructor(private readonly buf: Buffer, public pos: number, private readonly end: number) {}

  need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new ProtocolError('truncated', `truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`);
  }
  u8(what: string): number { this.need(1, what); return this.buf.readUInt8(this.pos++); }
  u16(what: string): number { this.need(2, what); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }
  i32(what: string): number { this.need(4, what); const v = this.buf.readInt32LE(this.pos); this.pos += 4; return v; }
  u64(what: string): bigint { this.need(8, what); const v = this.buf.readBigUInt64LE(this.pos); this.pos += 8; return v; }
  i64(what: string): bigint { this.need(8, what); const v = this.buf.readBigInt64LE(this.pos); this.pos += 8; return v; }
  take(n: number, what: string): Buffer { this.need(n, what); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  left(): number { return this.end - this.pos; }
}

function decodeAddr(r: Reader, what: string): Addr {
  const family = r.u8(what);
  const port = r.u16(what);
  if (family === 4 || family === 6) return { family, port, ip: bytesToIp(r.take(family === 4 ? 4 : 16, what)) };
  throw new ProtocolError('bad_value', `${what}: address family ${family} is neither 4 nor 6`);
}

/** Smallest encoded size of a value of this type; bounds list counts before allocating. */
function minSize(type: FieldType): number {
  if (typeof type === 'object') {
    if ('list' in type) return 4;
    return Object.values(type.struct).reduce((n, t) => n + minSize(t), 0);
  }
  return { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8, bool: 1, str: 4, bytes: 4, addr: 7 }[type];
}

function decodeField(r: Reader, type: FieldType, what: string): unknown {
  if (typeof type === 'object') {
    if ('list' in type) {
      const count = r.u32(what);
      if (count * minSize(type.list) > r.left()) {
        throw new ProtocolError('truncated', `${what}: list of ${count} items cannot fit in ${r.left()} bytes`);
      }
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) out.push(decodeField(r, type.list, `${what}[${i}]`));
      return out;
    }
    const obj: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(type.struct)) obj[k] = decodeField(r, t, `${what}.${k}`);
    return obj;
  }
  switch (type) {
    case 'u8': return r.u8(what);
    case 'u16': return r.u16(what);
    case 'u32': return r.u32(what);
    case 'i32': return r.i32(what);
    case 'u64': return r.u64(what);
    case 'i64': return r.i64(what);
    case 'bool': {
      const v = r.u8(what);
      if (v > 1) throw new ProtocolError('bad_value', `${what}: bool byte is ${v}, not 0 or 1`);
      return v === 1;
    }
    case 'str': {
      const n = r.u32(what);
      const b = r.take(n, what);
      try {
        return utf8.decode(b);
      } catch {
        throw new ProtocolError('bad_value', `${what}: string is not valid UTF-8`);
      }
    }
    case 'bytes': {
      const n = r.u32(what);
      return Buffer.from(r.take(n, what));
    }
    case 'addr': return decodeAddr(r, what);
  }
}

/** Decode the body of one frame, given the bytes after its length field. */
export function decodeBody(buf: Buffer): Message {
  const r = new Reader(buf, 0, buf.length);
  if (buf.length < HEADER_AFTER_LENGTH) throw new ProtocolError('truncated', `frame of ${buf.length} bytes is shorter than its header`);
  const code = r.u16('type');
  const id = r.u32('id');
  const name = byCode.get(code);
  if (!name) throw new ProtocolError('unknown_type', `unknown message type 0x${code.toString(16).padStart(4, '0')}`);
  const out: Record<string, unknown> = { type: name, id };
  const fields = messages[name].fields as Record<string, FieldType>;
  for (const [k, t] of Object.entries(fields)) {
    out[k] = decodeField(r, t, `${name}.${k}`);
    // Hello and HelloOk lead with version (and, from protocol 2 on, build) in every version: on
    // another version stop there, whatever follows.
    if (k === 'version' && (name === 'Hello' || name === 'HelloOk') && out['version'] !== PROTOCOL_VERSION) {
      let build = '';
      try {
        build = decodeField(r, 'str', `${name}.build`) as string;
      } catch {
        // protocol 1 had no build field
      }
      throw new VersionMismatch(name, id, out['version'] as number, build, { version: PROTOCOL_VERSION, build: PODLINK_BUILD });
    }
  }
  if (r.left() !== 0) throw new ProtocolError('trailing', `${name}: ${r.left()} bytes after the last field`);
  return out as unknown as Message;
}

/** Decode exactly one complete frame (length prefix included). */
export function decode(frame: Buffer): Message {
  if (frame.length < 4) throw new ProtocolError('truncated', 'frame shorter than its length field');
  const len = frame.readUInt32LE(0);
  if (len > MAX_FRAME) throw new ProtocolError('frame_too_large', `frame length ${len} exceeds ${MAX_FRAME}`);
  if (frame.length - 4 !== len) throw new ProtocolError(frame.length - 4 < len ? 'truncated' : 'trailing', `frame length field says ${len} bytes, ${frame.length - 4} follow`);
  return decodeBody(frame.subarray(4));
}

/**
 * Splits a byte stream into messages. Feed it chunks as they arrive; it returns the complete messages
 * and keeps the rest. After a ProtocolError the stream is unusable and must be closed.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Message[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const len = head.readUInt32LE(0);
      if (len > MAX_FRAME) throw new ProtocolError('frame_too_large', `frame length ${len} exceeds ${MAX_FRAME}`);
      if (this.buffered < 4 + len) break;
      const frame = this.consume(4 + len);
      out.push(decodeBody(frame.subarray(4)));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
