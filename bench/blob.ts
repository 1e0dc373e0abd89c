/**
 * The bulk payload of the benchmarks and of the 1 GiB test: a 1 MiB block of pseudo-random bytes
 * (fixed seed, so every process builds the same one), repeated. Its sha256 for any length is known
 * without a second copy of the data: `expectedSha256(bytes)`.
 */
import { createHash } from 'node:crypto';

export const BLOCK = 1 << 20;

let block: Buffer | undefined;

/** The 1 MiB block: SHA-256 in counter mode over a fixed seed (incompressible, reproducible). */
export function blobBlock(): Buffer {
  if (block) return block;
  const b = Buffer.allocUnsafe(BLOCK);
  for (let i = 0; i < BLOCK / 32; i++) createHash('sha256').update(`podlink-bench-${i}`).digest().copy(b, i * 32);
  block = b;
  return b;
}

/** sha256 (hex) of the first `bytes` bytes of the repeated block. */
export function expectedSha256(bytes: number): string {
  const h = createHash('sha256');
  const b = blobBlock();
  for (let left = bytes; left > 0; left -= BLOCK) h.update(left >= BLOCK ? b : b.subarray(0, left));
  return h.digest('hex');
}
