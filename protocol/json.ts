/**
 * A canonical JSON form of messages, used by the test vectors (and debug logs): keys in wire order,
 * 64-bit integers as decimal strings, bytes as lowercase hex, addresses as {family, ip, port}.
 */
import { messages, type FieldType } from './spec.js';
import type { Message } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function fieldToJson(type: FieldType, v: unknown): Json {
  if (typeof type === 'object') {
    if ('list' in type) return (v as unknown[]).map((x) => fieldToJson(type.list, x));
    const o: Record<string, Json> = {};
    for (const [k, t] of Object.entries(type.struct)) o[k] = fieldToJson(t, (v as Record<string, unknown>)[k]);
    return o;
  }
  switch (type) {
    case 'u64': case 'i64': return (v as bigint).toString();
    case 'bytes': return Buffer.from(v as Uint8Array).toString('hex');
    case 'addr': {
      const a = v as { family: number; ip: string; port: number };
      return { family: a.family, ip: a.ip, port: a.port };
    }
    default: return v as Json;
  }
}

function fieldFromJson(type: FieldType, v: Json): unknown {
  if (typeof type === 'object') {
    if ('list' in type) return (v as Json[]).map((x) => fieldFromJson(type.list, x));
    const o: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(type.struct)) o[k] = fieldFromJson(t, (v as Record<string, Json>)[k]!);
    return o;
  }
  switch (type) {
    case 'u64': case 'i64': return BigInt(v as string);
    case 'bytes': return Buffer.from(v as string, 'hex');
    default: return v;
  }
}

export function toJson(m: Message): Record<string, Json> {
  const out: Record<string, Json> = { type: m.type, id: m.id };
  const fields = messages[m.type].fields as Record<string, FieldType>;
  for (const [k, t] of Object.entries(fields)) out[k] = fieldToJson(t, (m as unknown as Record<string, unknown>)[k]);
  return out;
}

export function fromJson(j: Record<string, Json>): Message {
  const type = j['type'] as Message['type'];
  const out: Record<string, unknown> = { type, id: j['id'] };
  const fields = messages[type].fields as Record<string, FieldType>;
  for (const [k, t] of Object.entries(fields)) out[k] = fieldFromJson(t, j[k]!);
  return out as unknown as Message;
}
