/**
 * What is derived from protocol/spec.ts: the test vectors (protocol/vectors/), the spec lock
 * (version + hash) and the C header of message codes (layer/src/protocol_ids.h). Written and checked
 * by tools/gen/main.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '../../protocol/codec.js';
import { toJson } from '../../protocol/json.js';
import { invalidSamples, validSamples } from '../../protocol/samples.js';
import { HEADER_AFTER_LENGTH, INITIAL_WINDOW, MAX_DATA_CHUNK, MAX_FILE_CHUNK, MAX_FRAME, PROTOCOL_VERSION, layerLink, messages } from '../../protocol/spec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function specHash(): string {
  return createHash('sha256').update(JSON.stringify({ messages, MAX_FRAME, HEADER_AFTER_LENGTH })).digest('hex');
}

function cName(name: string): string {
  return 'PL_MSG_' + name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The files, by path from the repository root. */
export function protocolFiles(): Map<string, Buffer> {
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
    '/* Generated from protocol/spec.ts by tools/gen (node dist/tools/gen/main.js): do not edit. */',
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

/** The lock as committed: the version and hash the last generation recorded. */
export function committedLock(): { version: number; sha256: string } {
  return JSON.parse(fs.readFileSync(path.join(root, 'protocol/vectors/spec.lock'), 'utf8'));
}

export const VECTOR_DIRS = ['protocol/vectors/valid', 'protocol/vectors/invalid'];

/** Refuses to write vectors for a changed wire under the same PROTOCOL_VERSION (undefined = fine). */
export function versionProblem(): string | undefined {
  const lock = fs.existsSync(path.join(root, 'protocol/vectors/spec.lock')) ? committedLock() : undefined;
  if (lock && lock.sha256 !== specHash() && lock.version === PROTOCOL_VERSION) return `protocol/spec.ts changed the wire but PROTOCOL_VERSION is still ${PROTOCOL_VERSION}; bump it first`;
  return undefined;
}
