/**
 * SPDY/3.1 framing, the little of it a port-forward client needs (the kubelet's and containerd's
 * streaming servers speak it through github.com/moby/spdystream, as does kubectl).
 *
 *   control frame: |1|version:15|type:16| flags:8 |length:24| payload
 *   data frame:    |0|stream id:31|       flags:8 |length:24| payload
 *
 * Header blocks are zlib streams, one per direction and connection. Ours are written as stored
 * (uncompressed) deflate blocks, each ending like a sync flush, after a zlib header without a preset dictionary (FDICT clear), which
 * any inflater reads, and the header blocks we receive are never needed, so no zlib runs at all. The
 * servers do no flow control (spdystream ignores WINDOW_UPDATE), so neither do we: TCP's is enough.
 */

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const HEADER = 8;
export const MAX_DATA = 0xffffff;

export const enum Frame {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

/** The header block of a SYN_STREAM: name/value pairs (names lowercase), in zlib's framing. */
export class HeaderWriter {
  private started = false;

  block(headers: Record<string, string>): Buffer {
    const pairs = Object.entries(headers);
    const parts: Buffer[] = [u32(pairs.length)];
    for (const [name, value] of pairs) {
      const n = Buffer.from(name.toLowerCase(), 'latin1');
      const v = Buffer.from(value, 'latin1');
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    const raw = Buffer.concat(parts);
    if (raw.length > 0xffff) throw new Error('SPDY header block too large');
    // A non-final stored deflate block: BFINAL 0, BTYPE 00, padding, LEN, NLEN (little-endian).
    const stored = Buffer.alloc(5);
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    const zlibHeader = this.started ? [] : [Buffer.from([0x78, 0x01])]; // deflate, 32K window, no dictionary
    this.started = true;
    // Then an empty stored block, as zlib's sync flush ends with: an inflater hands out what it holds
    // when it reaches one (Go's flate keeps a block's bytes until it has read the next block's header).
    return Buffer.concat([...zlibHeader, stored, raw, SYNC_MARK]);
  }
}

const SYNC_MARK = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function control(type: Frame, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(HEADER);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

export function synStream(stream: number, flags: number, headerBlock: Buffer): Buffer {
  const fixed = Buffer.alloc(10); // stream id, associated-to stream id, priority 0, slot 0
  fixed.writeUInt32BE(stream & 0x7fffffff, 0);
  return control(Frame.SynStream, flags, Buffer.concat([fixed, headerBlock]));
}

export function ping(id: number): Buffer {
  return control(Frame.Ping, 0, u32(id));
}

export function goAway(lastStream: number): Buffer {
  return control(Frame.GoAway, 0, Buffer.concat([u32(lastStream & 0x7fffffff), u32(0)]));
}

/** The 8 bytes before a data frame's payload. */
export function dataHeader(stream: number, flags: number, length: number): Buffer {
  const head = Buffer.allocUnsafe(HEADER);
  head.writeUInt32BE(stream & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return head;
}

/** Nothing gathered: one shared empty buffer, not a new one per frame. */
const EMPTY = Buffer.alloc(0);

export interface FrameSink {
  /** Part of a data frame's payload, in order (a view of the chunk read, not a copy); `fin` on its last part when the frame has FLAG_FIN. */
  data(stream: number, bytes: Buffer, fin: boolean): void;
  /** A whole control frame. */
  control(type: number, flags: number, payload: Buffer): void;
}

/**
 * Cuts the bytes read into frames. Data payloads are passed on as they arrive (a frame split across
 * reads comes out in pieces, never copied); only frame headers and control frames are gathered.
 */
export class FrameParser {
  private pending: Buffer = EMPTY;
  /** Payload bytes still to come of the data frame in progress. */
  private dataLeft = 0;
  private dataStream = 0;
  private dataFin = false;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - at);
        this.dataLeft -= n;
        this.sink.data(this.dataStream, chunk.subarray(at, at + n), this.dataFin && this.dataLeft === 0);
        at += n;
        continue;
      }
      // A frame header, and a control frame's payload, are gathered whole.
      let buf = chunk.subarray(at);
      if (this.pending.length) buf = Buffer.concat([this.pending, buf]);
      if (buf.length < HEADER) {
        this.pending = Buffer.from(buf);
        return;
      }
      const flags = buf[4]!;
      const length = buf.readUInt32BE(4) & 0xffffff;
      const consumedBefore = this.pending.length;
      if (buf[0]! & 0x80) {
        if (buf.length < HEADER + length) {
          this.pending = Buffer.from(buf);
          return;
        }
        this.pending = EMPTY;
        at += HEADER + length - consumedBefore;
        this.sink.control(buf.readUInt16BE(2), flags, buf.subarray(HEADER, HEADER + length));
        continue;
      }
      this.pending = EMPTY;
      at += HEADER - consumedBefore;
      this.dataStream = buf.readUInt32BE(0) & 0x7fffffff;
      this.dataFin = (flags & FLAG_FIN) !== 0;
      this.dataLeft = length;
      if (length === 0) this.sink.data(this.dataStream, EMPTY, this.dataFin);
    }
  }
}
