/**
 * The HTTP/1 framer of the filtered steal (agent/incoming/h1-framing.ts): wherever a stream is cut
 * into reads, every message's bytes come out whole and in order, cut at the message's bounds as
 * llhttp sees them — bodies counted by their Content-Length, chunked bodies and answers read until
 * the close framed by llhttp's body pass, the answers of HEAD, 204, 304 and 1xx without a body — and
 * what llhttp refuses (a Content-Length beside a Transfer-Encoding, two Content-Lengths, one that is
 * not a number) comes out as `broken` from that message on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Framer, type Piece } from '../../agent/incoming/h1-framing.js';

interface Message {
  /** The head as llhttp read it, and the message's bytes. */
  first: string;
  bytes: string;
}

/** Feeds `stream` cut at `cuts` and gives the messages found, and the bytes after the last whole one. */
function frame(kind: 'request' | 'response', stream: string, cuts: number[], asked: string[] = []): { messages: Message[]; rest: Piece[] } {
  const f = new Framer(kind, (n) => asked[n]);
  const pieces: Piece[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    f.push(Buffer.from(stream.slice(at, c), 'latin1'), pieces);
    at = c;
  }
  f.finish(pieces);
  const messages: Message[] = [];
  let current: Message | undefined;
  const rest: Piece[] = [];
  for (const p of pieces) {
    if (p.kind === 'head') {
      current = { first: kind === 'request' ? `${p.head.method} ${p.head.target}` : String(p.head.status), bytes: p.bytes.toString('latin1') };
    } else if (p.kind === 'body') current!.bytes += p.bytes.toString('latin1');
    else if (p.kind === 'end') {
      messages.push(current!);
      current = undefined;
    } else rest.push(p);
  }
  f.close();
  return { messages, rest };
}

/** Every way of cutting `s` in two, and in three around its middle, and byte by byte. */
function cutsOf(s: string): number[][] {
  const out: number[][] = [[]];
  for (let i = 1; i < s.length; i++) out.push([i]);
  const mid = s.length >> 1;
  for (let i = 1; i < mid; i++) out.push([i, mid + (i % 7)]);
  out.push(Array.from({ length: s.length - 1 }, (_, i) => i + 1));
  return out;
}

const requests = [
  'GET /a HTTP/1.1\r\nHost: x\r\nX-Dev-User: alice\r\n\r\n',
  'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world',
  'PUT /c HTTP/1.1\r\nHost: x\r\ncontent-length:  0 \r\n\r\n',
  'POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n',
  'DELETE /e?q=1 HTTP/1.1\r\nHost: x\r\n\r\n',
];

const answers: [string, string][] = [
  ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'],
  ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n'],
  ['GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n'],
  ['GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n'],
  ['POST', 'HTTP/1.1 100 Continue\r\n\r\n'],
  ['POST', 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
  ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
];

describe('HTTP/1 framing of a byte stream', () => {
  it('should give every pipelined request whole and in order, wherever the stream is cut', () => {
    const stream = requests.join('');
    for (const cuts of cutsOf(stream)) {
      const { messages, rest } = frame('request', stream, cuts);
      assert.deepEqual(rest, [], `cuts ${cuts.join(',')}`);
      assert.deepEqual(messages.map((m) => m.bytes), requests, `cuts ${cuts.join(',')}`);
    }
    assert.deepEqual(frame('request', stream, []).messages.map((m) => m.first), ['GET /a', 'POST /b', 'PUT /c', 'POST /d', 'DELETE /e?q=1']);
  });

  it('should give every answer whole, HEAD, 204, 304 and 1xx without a body, wherever the stream is cut', () => {
    const stream = answers.map(([, a]) => a).join('');
    // 100 Continue is an interim answer of the same POST: one method for both.
    const asked = answers.filter(([, a]) => !a.startsWith('HTTP/1.1 100')).map(([m]) => m);
    for (const cuts of cutsOf(stream)) {
      const { messages, rest } = frame('response', stream, cuts, asked);
      assert.deepEqual(rest, [], `cuts ${cuts.join(',')}`);
      assert.deepEqual(messages.map((m) => m.bytes), answers.map(([, a]) => a), `cuts ${cuts.join(',')}`);
    }
  });

  it('should end an answer without a length at the close, and say when one is cut short', () => {
    const untilClose = 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of this, until the end';
    for (const cuts of cutsOf(untilClose)) assert.deepEqual(frame('response', untilClose, cuts, ['GET']).messages.map((m) => m.bytes), [untilClose]);
    const f = new Framer('response', () => 'GET');
    const pieces: Piece[] = [];
    f.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'), pieces);
    assert.equal(f.finish(pieces), 'truncated');
    assert.deepEqual(pieces.map((p) => p.kind), ['head', 'body']);
    f.close();
  });

  it('should refuse what llhttp refuses, from that message on, after the messages before it', () => {
    const bad = [
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello',
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\nhello',
    ];
    for (const b of bad) {
      const stream = requests[0]! + b;
      for (const cuts of [[], [requests[0]!.length + 20], [3, requests[0]!.length + 40]]) {
        const { messages, rest } = frame('request', stream, cuts);
        assert.deepEqual(messages.map((m) => m.bytes), [requests[0]], b);
        assert.equal(rest[0]?.kind, 'broken', b);
        const after = rest.map((p) => ('bytes' in p ? p.bytes.toString('latin1') : '')).join('');
        assert.equal(after, b, `everything from the refused message on is handed on as it is: ${b}`);
      }
    }
  });
});
