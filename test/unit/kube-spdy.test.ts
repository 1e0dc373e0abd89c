/**
 * The SPDY/3.1 framing of the port-forward (kube/spdy.ts): header blocks a real zlib inflates back to
 * the pairs (the Go servers use a zlib reader the same way), and a parser that cuts frames however
 * the bytes are split across reads. End to end against the kubelet: the cluster tests.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { FLAG_FIN, Frame, FrameParser, HeaderWriter, dataHeader, goAway, ping, synStream } from '../../kube/spdy.js';

/** The pairs of a decompressed header block. */
function pairs(raw: Buffer): [string, string][] {
  const out: [string, string][] = [];
  let at = 4;
  for (let i = 0; i < raw.readUInt32BE(0); i++) {
    const n = raw.readUInt32BE(at);
    const name = raw.subarray(at + 4, at + 4 + n).toString('latin1');
    at += 4 + n;
    const v = raw.readUInt32BE(at);
    out.push([name, raw.subarray(at + 4, at + 4 + v).toString('latin1')]);
    at += 4 + v;
  }
  assert.equal(at, raw.length, 'nothing after the pairs');
  return out;
}

describe('SPDY framing (kube/spdy.ts)', () => {
  it('writes header blocks that zlib inflates, as one stream across the frames of a connection', () => {
    const w = new HeaderWriter();
    const a = w.block({ streamType: 'error', port: '7777', requestid: '0' });
    const b = w.block({ streamtype: 'data', port: '7777', requestid: '0' });
    assert.deepEqual([a[0], a[1]], [0x78, 0x01], 'a zlib header without a preset dictionary');
    assert.notEqual(b[0], 0x78, 'the second block continues the stream');
    const inflate = (buf: Buffer) => zlib.inflateSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const first = inflate(a);
    assert.deepEqual(pairs(first), [['streamtype', 'error'], ['port', '7777'], ['requestid', '0']], 'names lowercased');
    const both = inflate(Buffer.concat([a, b]));
    assert.deepEqual(pairs(both.subarray(first.length)), [['streamtype', 'data'], ['port', '7777'], ['requestid', '0']]);
  });

  it('cuts frames split at every byte, passing data payloads on in order without gathering them', () => {
    const payload = Buffer.from('x'.repeat(100) + 'y'.repeat(100));
    const wire = Buffer.concat([
      synStream(1, FLAG_FIN, new HeaderWriter().block({ a: 'b' })),
      dataHeader(3, 0, payload.length),
      payload,
      ping(7),
      dataHeader(1, FLAG_FIN, 5),
      Buffer.from('oops!'),
      dataHeader(3, FLAG_FIN, 0),
      goAway(3),
    ]);
    for (const step of [1, 3, 7, 8, 9, 64, wire.length]) {
      const seen: string[] = [];
      const data = new Map<number, Buffer[]>();
      let pieces = 0;
      const p = new FrameParser({
        data(stream, bytes, fin) {
          pieces++;
          data.set(stream, [...(data.get(stream) ?? []), bytes]);
          if (fin) seen.push(`fin ${stream}`);
        },
        control(type, flags, body) {
          seen.push(`control ${type} flags ${flags} length ${body.length}`);
          if (type === Frame.Ping) assert.equal(body.readUInt32BE(0), 7);
        },
      });
      for (let at = 0; at < wire.length; at += step) p.push(wire.subarray(at, at + step));
      assert.deepEqual(seen, [`control ${Frame.SynStream} flags 1 length ${10 + 2 + 5 + 4 + 4 + 1 + 4 + 1 + 5}`, `control ${Frame.Ping} flags 0 length 4`, 'fin 1', 'fin 3', `control ${Frame.GoAway} flags 0 length 8`], `step ${step}`);
      assert.equal(Buffer.concat(data.get(3)!).toString(), payload.toString(), `step ${step}`);
      assert.equal(Buffer.concat(data.get(1)!).toString(), 'oops!', `step ${step}`);
      if (step === 1) assert.ok(pieces >= payload.length, 'a payload split across reads comes out in pieces');
    }
  });
});
