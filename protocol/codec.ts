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

/** Each message's fields in wire order, by code: walked per frame, so listed once here. */
const fieldsByCode = new Map<number, readonly (readonly [string, FieldType])[]>();
for (const def of Object.values(messages)) fieldsByCode.set(def.code, Object.entries(def.fields as Record<string, FieldType>));

/*
 * Connection traffic is most of the frames on the agent link, so Data and Window have hand-written
 * encoders and decoders. They must agree with the spec: checked here, at load, against its fields.
 */
const DATA = messages.Data.code;
const WINDOW = messages.Window.code;
function sameFields(name: MessageName, want: string): void {
  const got = JSON.stringify(messages[name].fields);
  if (got !== want) throw new Error(`Assertion failed: the fast path of ${name} expects ${want}, spec.ts says ${got}`);
}
sameFields('Data', JSON.stringify({ conn: 'u32', data: 'bytes' }));
sameFields('Window', JSON.stringify({ conn: 'u32', bytes: 'u32' }));
/** Bytes of a Data frame before its payload: length, type, id, conn, payload length. */
export const DATA_HEADER = 4 + HEADER_AFTER_LENGTH + 4 + 4;

// ---------------------------------------------------------------------------------------------------
// Encoding

/** Writes into a buffer allocated once, at the frame's exact size (sizeOf). */
class Writer {
  len = 0;
  constructor(private readonly out: Buffer) {}

  u8(v: number): void { this.out.writeUInt8(v, this.len); this.len += 1; }
  u16(v: number): void { this.out.writeUInt16LE(v, this.len); this.len += 2; }
  u32(v: number): void { this.out.writeUInt32LE(v, this.len); this.len += 4; }
  i32(v: number): void { this.out.writeInt32LE(v, this.len); this.len += 4; }
  u64(v: bigint): void { this.out.writeBigUInt64LE(v, this.len); this.len += 8; }
  i64(v: bigint): void { this.out.writeBigInt64LE(v, this.len); this.len += 8; }
  raw(b: Uint8Array): void { this.out.set(b, this.len); this.len += b.length; }
  str(v: string): void {
    const n = this.out.write(v, this.len + 4, 'utf8');
    this.u32(n);
    this.len += n;
  }
  buf(): Buffer {
    return this.out;
  }
}

const fixedSize: Record<Exclude<FieldType, object>, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8, bool: 1, str: 4, bytes: 4, addr: 3 };

/** Encoded size of a field's value. */
function sizeOf(type: FieldType, value: unknown): number {
  if (typeof type === 'object') {
    if ('list' in type) return (value as unknown[]).reduce<number>((n, item) => n + sizeOf(type.list, item), 4);
    const obj = value as Record<string, unknown>;
    let n = 0;
    for (const k in type.struct) n += sizeOf(type.struct[k]!, obj[k]);
    return n;
  }
  if (type === 'str') return 4 + Buffer.byteLength(value as string, 'utf8');
  if (type === 'bytes') return 4 + (value as Uint8Array).length;
  if (type === 'addr') return 3 + ((value as Addr).family === 6 ? 16 : 4);
  return fixedSize[type];
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
    for (const k in type.struct) encodeField(w, type.struct[k]!, obj[k], `${path}.${k}`);
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
    case 'str': return w.str(value as string);
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
  const code = messages[msg.type].code;
  const fields = fieldsByCode.get(code)!;
  const values = msg as unknown as Record<string, unknown>;
  let size = 4 + HEADER_AFTER_LENGTH;
  for (const [k, t] of fields) size += sizeOf(t, values[k]);
  if (size - 4 > MAX_FRAME) throw new ProtocolError('frame_too_large', `${msg.type} frame of ${size - 4} bytes exceeds ${MAX_FRAME}`);
  const w = new Writer(Buffer.allocUnsafe(size));
  w.u32(size - 4);
  w.u16(code);
  w.u32(msg.id);
  for (const [k, t] of fields) encodeField(w, t, values[k], `${msg.type}.${k}`);
  return w.buf();
}

/** A whole Data frame in one buffer (the payload copied in): for small payloads, one write instead of two. */
export function encodeData(id: number, conn: number, data: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(DATA_HEADER + data.length);
  f.writeUInt32LE(DATA_HEADER - 4 + data.length, 0);
  f.writeUInt16LE(DATA, 4);
  f.writeUInt32LE(id, 6);
  f.writeUInt32LE(conn, 10);
  f.writeUInt32LE(data.length, 14);
  f.set(data, DATA_HEADER);
  return f;
}

/**
 * The frame of a Data message without its payload: send it, then the payload itself, and the
 * relayed bytes are never copied into a frame.
 */
export function encodeDataHeader(id: number, conn: number, payloadLength: number): Buffer {
  const h = Buffer.allocUnsafe(DATA_HEADER);
  h.writeUInt32LE(DATA_HEADER - 4 + payloadLength, 0);
  h.writeUInt16LE(DATA, 4);
  h.writeUInt32LE(id, 6);
  h.writeUInt32LE(conn, 10);
  h.writeUInt32LE(payloadLength, 14);
  return h;
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
      // A view of the frame, not a copy: file chunks of megabytes pass through the intproxy.
      const n = r.u32(what);
      return r.take(n, what);
    }
    case 'addr': return decodeAddr(r, what);
  }
}

/** Decode the body of one frame, given the bytes after its length field. */
export function decodeBody(buf: Buffer): Message {
  if (buf.length < HEADER_AFTER_LENGTH) throw new ProtocolError('truncated', `frame of ${buf.length} bytes is shorter than its header`);
  const code = buf.readUInt16LE(0);
  const id = buf.readUInt32LE(2);
  // Connection traffic: no field walk, and the payload is a view of the frame, not a copy.
  if (code === DATA && buf.length >= DATA_HEADER - 4 && buf.readUInt32LE(10) === buf.length - (DATA_HEADER - 4)) {
    return { type: 'Data', id, conn: buf.readUInt32LE(6), data: buf.subarray(DATA_HEADER - 4) };
  }
  if (code === WINDOW && buf.length === HEADER_AFTER_LENGTH + 8) {
    return { type: 'Window', id, conn: buf.readUInt32LE(6), bytes: buf.readUInt32LE(10) };
  }
  const r = new Reader(buf, HEADER_AFTER_LENGTH, buf.length);
  const name = byCode.get(code);
  if (!name) throw new ProtocolError('unknown_type', `unknown message type 0x${code.toString(16).padStart(4, '0')}`);
  const out: Record<string, unknown> = { type: name, id };
  for (const [k, t] of fieldsByCode.get(code)!) {
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
 * A piece of a Data frame that has not all arrived yet: more of the same frame's payload follows (in
 * later pieces, the last without `more`). Not on the wire: FrameReader marks the pieces it passes on.
 */
export type DataPiece = MessageOf<'Data'> & { more?: true };

/**
 * Splits a byte stream into messages. Feed it chunks as they arrive; it returns the complete messages
 * and keeps the rest. A frame inside one chunk is decoded in place; one spread over several chunks is
 * copied once, exactly its own bytes — except a Data frame, whose payload is passed on as it arrives,
 * in pieces that are views of the chunks (DataPiece; a byte stream does not care where a frame ends,
 * a datagram does: UdpRelay joins them). After a ProtocolError the stream is unusable and must be closed.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload bytes still to come of the Data frame being passed on in pieces, and its id and conn. */
  private dataLeft = 0;
  private dataId = 0;
  private dataConn = 0;

  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Message[] = [];
    if (this.dataLeft > 0 && !this.pieces(out)) return out;
    while (this.buffered >= 4) {
      const len = this.lengthField();
      if (len > MAX_FRAME) throw new ProtocolError('frame_too_large', `frame length ${len} exceeds ${MAX_FRAME}`);
      if (this.buffered >= 4 + len) {
        out.push(decodeBody(this.take(4 + len).subarray(4)));
        continue;
      }
      if (this.buffered < DATA_HEADER || this.peekU16(4) !== DATA) break;
      const head = this.take(DATA_HEADER);
      const payload = head.readUInt32LE(DATA_HEADER - 4);
      if (payload !== len - (DATA_HEADER - 4)) throw new ProtocolError('truncated', `Data: payload length ${payload} in a frame of ${len} bytes`);
      this.dataId = head.readUInt32LE(6);
      this.dataConn = head.readUInt32LE(10);
      this.dataLeft = payload;
      this.pieces(out);
      break;
    }
    return out;
  }

  /** Passes on what has arrived of the current Data frame's payload; true once it is all through. */
  private pieces(out: Message[]): boolean {
    while (this.dataLeft > 0 && this.chunks.length > 0) {
      const n = Math.min(this.dataLeft, this.chunks[0]!.length);
      const data = this.take(n);
      this.dataLeft -= n;
      const piece: DataPiece = { type: 'Data', id: this.dataId, conn: this.dataConn, data };
      if (this.dataLeft > 0) piece.more = true;
      out.push(piece);
    }
    return this.dataLeft === 0;
  }

  private peekU16(at: number): number {
    const first = this.chunks[0]!;
    if (first.length >= at + 2) return first.readUInt16LE(at);
    const b = Buffer.allocUnsafe(at + 2);
    let got = 0;
    for (const c of this.chunks) {
      got += c.copy(b, got, 0, Math.min(c.length, at + 2 - got));
      if (got === at + 2) break;
    }
    return b.readUInt16LE(at);
  }

  private lengthField(): number {
    const first = this.chunks[0]!;
    return first.length >= 4 ? first.readUInt32LE(0) : this.peekU16(0) + this.peekU16(2) * 0x10000;
  }

  /** The next n bytes (n ≤ buffered): a view when the first chunk holds them, else a copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
