/** The TypeScript codec against the shared vectors, the spec lock, and malformed input. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode, FrameReader } from '../../protocol/codec.js';
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
      assert.equal(out.length, frames.length);
      assert.deepEqual(out.map((m) => encode(m)), frames);
    }
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
