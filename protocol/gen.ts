/**
 * Writes what is derived from spec.ts: the test vectors (protocol/vectors/), the spec lock (version +
 * hash) and the C header of message codes (layer/src/protocol_ids.h).
 *
 *   node dist/protocol/gen.js           write them
 *   node dist/protocol/gen.js --check   exit 1 if any is out of date (the unit tests run this)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from './codec.js';
import { toJson } from './json.js';
import { invalidSamples, validSamples } from './samples.js';
import { HEADER_AFTER_LENGTH, INITIAL_WINDOW, MAX_DATA_CHUNK, MAX_FILE_CHUNK, MAX_FRAME, PROTOCOL_VERSION, layerLink, messages } from './spec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function specHash(): string {
  return createHash('sha256').update(JSON.stringify({ messages, MAX_FRAME, HEADER_AFTER_LENGTH })).digest('hex');
}

function cName(name: string): string {
  return 'PL_MSG_' + name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

export function generated(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const layer = new Set<string>(layerLink);
  for (const { name, message } of validSamples) {
    const json = { ...toJson(message), $layer: layer.has(message.type) };
    files.set(`protocol/vectors/valid/${name}.bin`, encode(message));
    files.set(`protocol/vectors/valid/${name}.json`, Buffer.from(JSON.stringify(json, null, 2) + '\n'));
  }
  for (const { name, bytes, error } of invalidSamples) {
    files.set(`protocol/vectors/invalid/${name}.bin`, bytes);
    files.set(`protocol/vectors/invalid/${name}.txt`, Buffer.from(error + '\n'));
  }
  const lock = { version: PROTOCOL_VERSION, sha256: specHash() };
  files.set('protocol/vectors/spec.lock', Buffer.from(JSON.stringify(lock, null, 2) + '\n'));

  const lines = [
    '/* Generated from protocol/spec.ts by protocol/gen.ts: do not edit. */',
    '#ifndef PODLINK_PROTOCOL_IDS_H',
    '#define PODLINK_PROTOCOL_IDS_H',
    '',
    `#define PL_PROTOCOL_VERSION ${PROTOCOL_VERSION}`,
    `#define PL_MAX_FRAME ${MAX_FRAME}u`,
    `#define PL_HEADER_AFTER_LENGTH ${HEADER_AFTER_LENGTH}`,
    `#define PL_INITIAL_WINDOW ${INITIAL_WINDOW}u`,
    `#define PL_MAX_DATA_CHUNK ${MAX_DATA_CHUNK}u`,
    `#define PL_MAX_FILE_CHUNK ${MAX_FILE_CHUNK}u`,
    '',
    ...Object.entries(messages).map(
      ([name, def]) => `#define ${cName(name).padEnd(24)} 0x${def.code.toString(16).padStart(4, '0')}${layer.has(name) ? '' : '  /* agent link only */'}`,
    ),
    '',
    '#endif',
    '',
  ];
  files.set('layer/src/protocol_ids.h', Buffer.from(lines.join('\n')));
  return files;
}

/** Paths (relative to the repo) whose content differs from what spec.ts implies. */
export function stale(): string[] {
  const out: string[] = [];
  const want = generated();
  for (const [rel, content] of want) {
    const p = path.join(root, rel);
    if (!fs.existsSync(p) || !fs.readFileSync(p).equals(content)) out.push(rel);
  }
  for (const dir of ['protocol/vectors/valid', 'protocol/vectors/invalid']) {
    const abs = path.join(root, dir);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs)) if (!want.has(`${dir}/${f}`)) out.push(`${dir}/${f} (no longer generated)`);
  }
  return out;
}

/** The lock as committed: the version and hash the last generation recorded. */
export function committedLock(): { version: number; sha256: string } {
  return JSON.parse(fs.readFileSync(path.join(root, 'protocol/vectors/spec.lock'), 'utf8'));
}

function main(): void {
  if (process.argv.includes('--check')) {
    const s = stale();
    if (s.length) {
      console.error(`protocol: generated files are out of date (run: node dist/protocol/gen.js):\n  ${s.join('\n  ')}`);
      process.exit(1);
    }
    return;
  }
  const lock = fs.existsSync(path.join(root, 'protocol/vectors/spec.lock')) ? committedLock() : undefined;
  if (lock && lock.sha256 !== specHash() && lock.version === PROTOCOL_VERSION) {
    console.error(`protocol: spec.ts changed the wire but PROTOCOL_VERSION is still ${PROTOCOL_VERSION}; bump it first`);
    process.exit(1);
  }
  for (const dir of ['protocol/vectors/valid', 'protocol/vectors/invalid']) fs.rmSync(path.join(root, dir), { recursive: true, force: true });
  for (const [rel, content] of generated()) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  console.log('protocol: vectors, spec.lock and layer/src/protocol_ids.h written');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
