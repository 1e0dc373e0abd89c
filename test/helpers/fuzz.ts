/**
 * Seeded fuzzing for the codec tests (TypeScript and C): a deterministic PRNG and frame mutations.
 * Every fuzz test names its seed in its failure messages; PODLINK_FUZZ_SEED=N repeats a run.
 */
import { Buffer } from 'node:buffer';

/** The seed of this run: PODLINK_FUZZ_SEED, else the test's own fixed one. */
export function fuzzSeed(fixed: number): number {
  const env = process.env.PODLINK_FUZZ_SEED;
  return env === undefined || env === '' ? fixed : Number(env);
}

/** How a failure message names the seed. */
export const seedNote = (seed: number): string => `(fuzz seed ${seed}: PODLINK_FUZZ_SEED=${seed} repeats this run)`;

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(frame: Buffer, r: () => number): Buffer {
  const b = Buffer.from(frame);
  const pick = Math.floor(r() * 7);
  const at = Math.floor(r() * Math.max(1, b.length));
  switch (pick) {
    case 0: // flip bits
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n && b.length; i++) b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
      return b;
    case 1: // truncate
      return b.subarray(0, at);
    case 2: // append junk
      return Buffer.concat([b, Buffer.from([Math.floor(r() * 256), Math.floor(r() * 256)])]);
    case 3: { // random byte
      if (b.length) b[at] = Math.floor(r() * 256);
      return b;
    }
    case 4: { // a huge or odd u32 somewhere (lengths, counts)
      if (b.length >= at + 4) b.writeUInt32LE([0xffffffff, 0x7fffffff, 0x1000000, b.length, 0][Math.floor(r() * 5)]!, at);
      return b;
    }
    case 5: { // fix the length prefix after a body change, so the body decoder is reached
      const t = mutate(frame, r);
      if (t.length >= 4) t.writeUInt32LE(t.length - 4, 0);
      return t;
    }
    default: // the type code of another message
      if (b.length >= 6) b.writeUInt16LE([0x01, 0x02, 0x03, 0x04, 0x10, 0x11, 0x20, 0x21, 0x26, 0x28, 0x29, 0x40, 0x41, 0x42, 0x52, 0x9999][Math.floor(r() * 16)]!, 4);
      return b;
  }
}

