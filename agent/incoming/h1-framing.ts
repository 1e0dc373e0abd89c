/**
 * Where HTTP/1.x messages begin and end in a byte stream, and what their heads say — found with
 * llhttp, the parser Node's own http module uses (its binding, `node:_http_common`'s HTTPParser), so
 * the filtered-steal dispatcher can forward every message's bytes exactly as they came and parse
 * nothing else. Never a parser of our own: framing is where request smuggling lives, and llhttp's
 * rules (Transfer-Encoding over Content-Length, bodies of HEAD answers, 1xx, 204, 304, until-close
 * bodies, upgrades) are the ones Node's servers apply.
 *
 * Two llhttp parsers per stream, because Node's binding reports byte positions only when llhttp stops:
 *   head   parses a message's head; its headers-complete callback answers 2 ("no body, stop here"),
 *          so `execute` returns exactly where the head ends.
 *   body   is fed that head again with `Connection: close` added, then the bytes that follow. It
 *          frames the body by llhttp's own rules; once the message is complete it is in llhttp's
 *          closed state, so the first byte of the next message is an error (HPE_CLOSED_CONNECTION)
 *          whose position is exactly where this message ended (llhttp reports it one past the byte).
 * The body parser is needed only where a body's end is found by reading it (chunked, a response
 * read until the close). Where llhttp's head alone fixes the length — a request with neither
 * Transfer-Encoding nor Content-Length (no body), a message with a Content-Length and no
 * Transfer-Encoding, a HEAD's answer, a 204 or a 304 — the body's bytes are counted instead (llhttp
 * has refused the head already when its Content-Length is not one valid number, or comes with a
 * Transfer-Encoding). Requests without a body, the common case, cost one llhttp pass.
 *
 *   push(bytes) → pieces, in order:  head (the view, its bytes) · body (bytes) · end · …
 *                                    raw (bytes after an upgrade: not HTTP/1 any more)
 *                                    broken (bytes from the start of a message llhttp refused)
 */
import { createRequire } from 'node:module';

interface ParseError extends Error {
  code: string;
  bytesParsed: number;
}
interface NodeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(b: Buffer): number | ParseError;
  finish(): number | ParseError | undefined;
  close(): void;
  [callback: number]: unknown;
}
interface Binding {
  HTTPParser: {
    new (): NodeParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
  methods: string[];
}
const { HTTPParser, methods } = createRequire(import.meta.url)('node:_http_common') as Binding;

export interface Head {
  /** Requests: the method and the request target as sent. */
  method: string;
  target: string;
  /** Responses: the status code. */
  status: number;
  /** Requests: header lines in the sender's order and case (responses: none, nothing reads them). */
  headers: [string, string][];
  /** WebSocket, h2c, CONNECT, a 101 or a CONNECT's 2xx: what follows the head is not HTTP/1. */
  upgrade: boolean;
  /** llhttp's should-keep-alive for this message. */
  keepAlive: boolean;
  /** The filter's header lines, once made (filter.ts: a Head is the request's RequestView). */
  lines?: string[];
}

export type Piece =
  | { kind: 'head'; head: Head; bytes: Buffer }
  | { kind: 'body'; bytes: Buffer }
  | { kind: 'end' }
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'broken'; bytes: Buffer; reason: string };

const CLOSE_LINE = Buffer.from('Connection: close\r\n\r\n', 'latin1');
const NO_CALLBACK = (): void => undefined;
/** The binding copies each body chunk into a Buffer for a kOnBody that is a function: none is set. */
const NO_BODY_CALLBACK = undefined;
/** `initialize`'s async resource, shared: nothing reads it. */
const RESOURCE = {};
const END: Piece = { kind: 'end' };
const DIGITS = /^[0-9]+$/;

/**
 * The body's length when llhttp's head fixes it (see the file's comment), else -1 (the body parser
 * frames it). `flat` is the binding's [name, value, …].
 */
function fixedLength(request: boolean, status: number, asked: string | undefined, flat: string[]): number {
  if (!request && (asked === 'HEAD' || status === 204 || status === 304)) return 0;
  if (!request && status < 200) return -1;
  let length = -1;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i]!;
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return -1;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const v = flat[i + 1]!.trim();
      const n = Number(v);
      if (!DIGITS.test(v) || !Number.isSafeInteger(n) || length >= 0) return -1;
      length = n;
    }
  }
  return length >= 0 ? length : request ? 0 : -1;
}

/**
 * One direction of one connection. `answering(n)` (responses): the method of the request the n-th
 * final answer (from 0, 1xx not counted) of the stream answers — several answers may come in one read.
 */
export class Framer {
  /** body: framed by the body parser; count: `left` bytes of body to go. */
  private state: 'head' | 'body' | 'count' | 'raw' = 'head';
  private left = 0;
  private readonly headParser = new HTTPParser();
  private readonly bodyParser = new HTTPParser();
  private readonly type: number;
  private headChunks: Buffer[] = [];
  private rawHeaders: string[] = [];
  private url = '';
  private found: Head | undefined;
  private skipBody = false;
  /** Final answers framed so far; the one being framed is a 1xx. */
  private answers = 0;
  private interim = false;
  private complete = false;

  constructor(
    kind: 'request' | 'response',
    private readonly answering: (n: number) => string | undefined = () => undefined,
  ) {
    this.type = kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE;
    const h = this.headParser;
    h[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
      this.rawHeaders.push(...headers);
      this.url += url;
    };
    h[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[] | undefined,
      method: number | undefined,
      url: string | undefined,
      status: number | undefined,
      _statusMessage: string | undefined,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      const flat = headers ?? this.rawHeaders;
      // (Only a request's headers are looked at: by the filter.)
      const pairs: [string, string][] = [];
      if (this.type === HTTPParser.REQUEST) for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      const st = status ?? 0;
      const asked = this.type === HTTPParser.RESPONSE ? this.answering(this.answers) : undefined;
      this.interim = st >= 100 && st < 200 && !upgrade;
      this.skipBody = asked === 'HEAD';
      this.left = fixedLength(this.type === HTTPParser.REQUEST, st, asked, flat);
      this.found = {
        method: method === undefined ? '' : (methods[method] ?? ''),
        target: url || this.url,
        status: st,
        headers: pairs,
        upgrade: upgrade || (asked === 'CONNECT' && st >= 200 && st < 300),
        keepAlive,
      };
      return 2;
    };
    h[HTTPParser.kOnBody] = NO_BODY_CALLBACK;
    h[HTTPParser.kOnMessageComplete] = NO_CALLBACK;
    const b = this.bodyParser;
    b[HTTPParser.kOnHeaders] = NO_CALLBACK;
    b[HTTPParser.kOnHeadersComplete] = (): number => (this.skipBody ? 1 : 0);
    b[HTTPParser.kOnBody] = NO_BODY_CALLBACK;
    b[HTTPParser.kOnMessageComplete] = (): void => void (this.complete = true);
    this.nextMessage();
  }

  private ended(out: Piece[]): void {
    out.push(END);
    if (!this.interim) this.answers++;
    this.nextMessage();
  }

  private nextMessage(): void {
    this.state = 'head';
    this.headChunks = [];
    this.rawHeaders = [];
    this.url = '';
    this.found = undefined;
    this.headParser.initialize(this.type, RESOURCE, 0, 0);
  }

  /** The pieces `chunk` holds, appended to `out`. */
  push(chunk: Buffer, out: Piece[]): void {
    while (chunk.length) {
      if (this.state === 'raw') return void out.push({ kind: 'raw', bytes: chunk });
      if (this.state === 'head') {
        const r = this.headParser.execute(chunk);
        if (typeof r !== 'number') return this.broken(chunk, out, r.code);
        if (!this.found) {
          this.headChunks.push(chunk);
          return;
        }
        const head = this.found;
        this.headChunks.push(chunk.subarray(0, r));
        const bytes = this.headChunks.length === 1 ? this.headChunks[0]! : Buffer.concat(this.headChunks);
        this.headChunks = [];
        out.push({ kind: 'head', head, bytes });
        chunk = chunk.subarray(r);
        if (head.upgrade) {
          this.state = 'raw';
          continue;
        }
        if (this.left === 0) {
          this.ended(out);
          continue;
        }
        if (this.left > 0) {
          this.state = 'count';
          continue;
        }
        // The body parser sees the same head, closing after this message (see the file's comment).
        this.complete = false;
        this.bodyParser.initialize(this.type, RESOURCE, 0, 0);
        const q = this.bodyParser.execute(Buffer.concat([bytes.subarray(0, bytes.length - 2), CLOSE_LINE]));
        if (typeof q !== 'number') return this.broken(Buffer.concat([bytes, chunk]), out, q.code);
        if (this.complete) {
          this.ended(out);
          continue;
        }
        this.state = 'body';
        continue;
      }
      if (this.state === 'count') {
        const n = Math.min(this.left, chunk.length);
        out.push({ kind: 'body', bytes: n === chunk.length ? chunk : chunk.subarray(0, n) });
        this.left -= n;
        chunk = chunk.subarray(n);
        if (this.left === 0) {
          this.ended(out);
        }
        continue;
      }
      const r = this.bodyParser.execute(chunk);
      if (typeof r === 'number') {
        out.push({ kind: 'body', bytes: chunk });
        if (this.complete) {
          this.ended(out);
        }
        return;
      }
      if (r.code !== 'HPE_CLOSED_CONNECTION' || !this.complete) {
        this.state = 'raw';
        return void out.push({ kind: 'broken', bytes: chunk, reason: r.code });
      }
      const end = r.bytesParsed - 1;
      if (end > 0) out.push({ kind: 'body', bytes: chunk.subarray(0, end) });
      this.ended(out);
      chunk = chunk.subarray(end);
    }
  }

  /** The stream ended: a body that runs until the close is complete now. */
  finish(out: Piece[]): 'clean' | 'truncated' {
    if (this.state === 'count') return 'truncated';
    if (this.state === 'body') {
      this.bodyParser.finish();
      if (this.complete) {
        this.ended(out);
        return 'clean';
      }
      return 'truncated';
    }
    return this.state === 'head' && this.headChunks.length ? 'truncated' : 'clean';
  }

  /** llhttp refused the bytes: from the start of this message on, the stream is passed on as it is. */
  private broken(chunk: Buffer, out: Piece[], reason: string): void {
    const bytes = this.headChunks.length ? Buffer.concat([...this.headChunks, chunk]) : chunk;
    this.headChunks = [];
    this.state = 'raw';
    out.push({ kind: 'broken', bytes, reason });
  }

  close(): void {
    this.headParser.close();
    this.bodyParser.close();
  }
}
