/**
 * The C codec of the layer (layer/src/proto.c) against the shared protocol vectors, and against the
 * TypeScript codec on thousands of mutated frames (run under ASan/UBSan: any out-of-bounds read or
 * undefined behaviour aborts the binary).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode } from '../../protocol/codec.js';
import { ProtocolError } from '../../protocol/errors.js';
import { toJson } from '../../protocol/json.js';
import { validSamples } from '../../protocol/samples.js';
import { layerLink, messages } from '../../protocol/spec.js';
import type { Message } from '../../protocol/types.js';
import { fuzzSeed, mutate, rng, seedNote } from '../helpers/fuzz.js';
import { LAYER_TEST_BIN, REPO_ROOT } from '../helpers/layer-run.js';

const VECTORS = path.join(REPO_ROOT, 'protocol/vectors');
const layerTypes = new Set<string>(layerLink);
const agentOnlyCodes = new Set(Object.entries(messages).filter(([n]) => !layerTypes.has(n)).map(([, d]) => d.code as number));

function parseLines(out: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of out.trim().split('\n')) {
    const [name, ...rest] = line.split('\t');
    m.set(name!, rest);
  }
  return m;
}

describe('C codec against protocol/vectors', () => {
  const out = execFileSync(path.join(LAYER_TEST_BIN, 'vectors'), [VECTORS], { encoding: 'utf8' });
  const lines = parseLines(out);

  it('decodes every layer-link valid vector to its JSON and re-encodes it byte for byte', () => {
    const valid = fs.readdirSync(path.join(VECTORS, 'valid')).filter((f) => f.endsWith('.json'));
    let checked = 0;
    for (const f of valid) {
      const json = JSON.parse(fs.readFileSync(path.join(VECTORS, 'valid', f), 'utf8')) as Record<string, unknown>;
      const name = f.slice(0, -5);
      if (json['$layer'] !== true) {
        assert.equal(lines.has(name), false, `${name} is not a layer message`);
        continue;
      }
      delete json['$layer'];
      const got = lines.get(name);
      assert.ok(got, `no C output for ${name}`);
      assert.equal(got[0], 'ok', `${name}: ${got.join(' ')}`);
      assert.deepEqual(JSON.parse(got[1]!), json, name);
      const bin = fs.readFileSync(path.join(VECTORS, 'valid', `${name}.bin`));
      assert.equal(got[2], bin.toString('hex'), `${name} re-encoded`);
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} layer vectors`);
  });

  it('reports the expected error code for every invalid vector', () => {
    const invalid = fs.readdirSync(path.join(VECTORS, 'invalid')).filter((f) => f.endsWith('.txt'));
    assert.ok(invalid.length > 0);
    for (const f of invalid) {
      const name = f.slice(0, -4);
      const want = fs.readFileSync(path.join(VECTORS, 'invalid', f), 'utf8').trim();
      assert.deepEqual(lines.get(name), ['err', want], name);
    }
  });

  it('handles every layer-link message type (encode and decode)', () => {
    const seen = new Set([...lines.values()].filter((l) => l[0] === 'ok').map((l) => (JSON.parse(l[1]!) as { type: string }).type));
    const missing = layerLink.filter((t) => !seen.has(t));
    assert.deepEqual(missing, [], 'layer messages without a vector exercised in C');
  });
});

describe('C codec on mutated frames', () => {
  it('agrees with the TypeScript codec on 20 000 mutated frames and never crashes under ASan/UBSan', () => {
    const seeds: Buffer[] = [];
    for (const dir of ['valid', 'invalid']) {
      for (const f of fs.readdirSync(path.join(VECTORS, dir)).filter((x) => x.endsWith('.bin'))) seeds.push(fs.readFileSync(path.join(VECTORS, dir, f)));
    }
    for (const { message } of validSamples) if (layerTypes.has(message.type)) seeds.push(encode(message));
    const seed = fuzzSeed(0x9d1a7);
    const r = rng(seed);
    const frames: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) frames.push(mutate(seeds[Math.floor(r() * seeds.length)]!, r));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-fuzz-')), 'frames.bin');
    fs.writeFileSync(file, Buffer.concat(frames.flatMap((f) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(f.length, 0);
      return [len, f];
    })));
    const run = spawnSync(path.join(LAYER_TEST_BIN, 'vectors-asan'), ['--stream', file], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' },
    });
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    assert.equal(run.status, 0, `vectors-asan exited ${run.status} ${run.signal ?? ''} ${seedNote(seed)}\n${run.stderr.slice(0, 4000)}`);
    const results = run.stdout.trimEnd().split('\n');
    assert.equal(results.length, frames.length);
    let agreedOk = 0;
    let agreedErr = 0;
    frames.forEach((f, i) => {
      const [verdict, a, b] = results[i]!.split('\t');
      // A whole frame of an agent-link message: C knows only layer-link types.
      if (f.length >= 10 && f.readUInt32LE(0) === f.length - 4 && agentOnlyCodes.has(f.readUInt16LE(4))) {
        assert.deepEqual([verdict, a], ['err', 'unknown_type'], `frame ${i} ${f.toString('hex')} ${seedNote(seed)}`);
        return;
      }
      let ts: Message | ProtocolError;
      try {
        ts = decode(f);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        ts = e;
      }
      if (ts instanceof ProtocolError) {
        assert.deepEqual([verdict, a], ['err', ts.code], `frame ${i} ${f.toString('hex')} ${seedNote(seed)}`);
        agreedErr++;
      } else if (!layerTypes.has(ts.type)) {
        assert.deepEqual([verdict, a], ['err', 'unknown_type'], `frame ${i}: ${ts.type} is not a layer message ${seedNote(seed)}`);
      } else {
        assert.equal(verdict, 'ok', `frame ${i} ${f.toString('hex')}: C says ${a} ${seedNote(seed)}`);
        assert.deepEqual(JSON.parse(a!), toJson(ts), `frame ${i} ${seedNote(seed)}`);
        assert.equal(b, f.toString('hex'), `frame ${i} re-encoded ${seedNote(seed)}`);
        agreedOk++;
      }
    });
    // The mutations must reach both outcomes often enough to mean something.
    assert.ok(agreedOk > 1000 && agreedErr > 5000, `ok ${agreedOk}, err ${agreedErr}`);
  });
});
