/** The TypeScript codec against the shared vectors, the spec lock, and malformed input. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode, FrameReader, type DataPiece } from '../../protocol/codec.js';
import type { Message } from '../../protocol/types.js';
import { ProtocolError } from '../../protocol/errors.js';
import { committedLock, specHash } from '../../tools/gen/protocol.js';
import { fuzzSeed, mutate, rng, seedNote } from '../helpers/fuzz.js';
import { fromJson, toJson } from '../../protocol/json.js';
import { PROTOCOL_VERSION, messages } from '../../protocol/spec.js';
import { packageRoot } from '../../common/paths.js';

const vectors = path.join(packageRoot, 'protocol', 'vectors');
const valid = fs.readdirSync(path.join(vectors, 'valid')).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4));
const invalid = fs.readdirSync(path.join(vectors, 'invalid')).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4));

describe('protocol codec (TypeScript)', () => {
  it('has a vector for every message type', () => {
    const covered = new Set(valid.map((n) => JSON.parse(fs.readFileSync(path.join(vectors, 'valid', `${n}.json`), 'utf8')).type));
    assert.deepEqual([...covered].sort(), Object.keys(messages).sort());
  });

  for (const name of valid) {
    it(`decodes and re-encodes vector ${name}`, () => {
      const bytes = fs.readFileSync(path.join(vectors, 'valid', `${name}.bin`));
      const { $layer: _, ...json } = JSON.parse(fs.readFileSync(path.join(vectors, 'valid', `${name}.json`), 'utf8'));
      assert.deepEqual(toJson(decode(bytes)), json);
      assert.deepEqual(encode(fromJson(json)), bytes);
    });
  }

  for (const name of invalid) {
    it(`rejects malformed vector ${name} with its error code`, () => {
      const bytes = fs.readFileSync(path.join(vectors, 'invalid', `${name}.bin`));
      const want = fs.readFileSync(path.join(vectors, 'invalid', `${name}.txt`), 'utf8').trim();
      assert.throws(() => decode(bytes), (e: unknown) => e instanceof ProtocolError && e.code === want);
    });
  }

  it('splits a stream cut at every byte into the same messages', () => {
    const frames = valid.map((n) => fs.readFileSync(path.join(vectors, 'valid', `${n}.bin`)));
    const stream = Buffer.concat(frames);
    for (const step of [1, 3, 7, 64]) {
      const reader = new FrameReader();
      const out = [];
      for (let i = 0; i < stream.length; i += step) out.push(...reader.push(stream.subarray(i, i + step)));
      assert.deepEqual(joinPieces(out).map((m) => encode(m)), frames);
    }
  });

  it('passes a Data frame on as its payload arrives, in views of the chunks, the last piece without more', () => {
    const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const frame = encode({ type: 'Data', id: 0, conn: 7, data: payload });
    const window = encode({ type: 'Window', id: 0, conn: 7, bytes: 5 });
    const stream = Buffer.concat([frame, window]);
    const reader = new FrameReader();
    const cuts = [3, 17, 20, 40_000, 99_999, stream.length - 2, stream.length];
    const out: Message[] = [];
    let at = 0;
    for (const cut of cuts) {
      const chunk = stream.subarray(at, cut);
      const got = reader.push(chunk);
      for (const m of got) if (m.type === 'Data') assert.equal(m.data.buffer, chunk.buffer, 'a piece is a view of the chunk it came in, not a copy');
      out.push(...got);
      at = cut;
    }
    const pieces = out.filter((m) => m.type === 'Data') as DataPiece[];
    assert.ok(pieces.length >= 4, `the payload came in ${pieces.length} pieces`);
    assert.ok(pieces.slice(0, -1).every((p) => p.more === true) && pieces.at(-1)!.more === undefined);
    assert.ok(pieces.every((p) => p.conn === 7));
    assert.ok(Buffer.concat(pieces.map((p) => p.data)).equals(payload));
    assert.deepEqual(out.at(-1), { type: 'Window', id: 0, conn: 7, bytes: 5 });
  });

  it('never fails with anything but ProtocolError on mutated or random input', () => {
    const frames = valid.map((n) => fs.readFileSync(path.join(vectors, 'valid', `${n}.bin`)));
    const seed = fuzzSeed(0x7ea1);
    const r = rng(seed);
    let rejected = 0;
    for (let i = 0; i < 20000; i++) {
      // Every fourth input is random bytes, the others mutated vectors.
      const input = i % 4 === 0 ? Buffer.from(Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256))) : mutate(frames[Math.floor(r() * frames.length)]!, r);
      try {
        decode(input);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `unexpected ${(e as Error).name} on ${input.toString('hex')}: ${(e as Error).message} ${seedNote(seed)}`);
        rejected++;
      }
    }
    assert.ok(rejected > 1000, `only ${rejected} of 20000 inputs were rejected; the fuzzing is not reaching the decoder ${seedNote(seed)}`);
  });

  it('bumps PROTOCOL_VERSION whenever the wire definition changes', () => {
    const lock = committedLock();
    assert.equal(lock.version, PROTOCOL_VERSION, 'spec.lock records another version: regenerate with node dist/tools/gen/main.js');
    assert.equal(lock.sha256, specHash(), 'spec.ts changed the wire without a version bump: bump PROTOCOL_VERSION and regenerate');
  });
});

/** Data pieces (FrameReader's DataPiece) joined back into the frames they came in. */
function joinPieces(msgs: Message[]): Message[] {
  const out: Message[] = [];
  let parts: Buffer[] = [];
  for (const m of msgs) {
    if (m.type !== 'Data') {
      out.push(m);
      continue;
    }
    parts.push(Buffer.from(m.data));
    if ((m as DataPiece).more) continue;
    out.push({ ...m, data: Buffer.concat(parts) });
    parts = [];
  }
  return out;
}
