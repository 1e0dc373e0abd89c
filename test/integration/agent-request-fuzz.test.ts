/**
 * Issue 13: the agent survives any request. A real agent process receives thousands of random but
 * well-framed requests of every kind the spec defines (bad ports, families, paths that are not paths,
 * NUL bytes, huge sizes, unknown conn ids, answers sent as if they were requests); after every batch it
 * must still answer a Resolve of "localhost" from its hosts file, and it must never exit.
 *
 * Safety: the agent runs in a network namespace of its own with nothing up (`unshare --net`), so no
 * random address is ever reached, and every WriteFile path lies inside a temp dir (or is no path).
 * Needs root.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { Link, RemoteError } from '../../link/link.js';
import { helloFrom } from '../../link/hello.js';
import { PROTOCOL_VERSION, Role, messages, type FieldType, type MessageName } from '../../protocol/spec.js';
import type { Message } from '../../protocol/types.js';

/** A small deterministic PRNG: a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function requestFuzzer(seed: number, scratch: string) {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const paths = [
    '/etc/hosts', '/etc/resolv.conf', '/proc/self/status', '/dev/zero', '/dev/null', '/', '/nonexistent/x', scratch,
    `${scratch}/f`, 'relative/path', '', 'a\u0000b', '/with\u0000nul', '/' + 'x'.repeat(5000), '/../../..', '/proc/self/fd/0',
  ];
  const names = ['localhost', '', 'x'.repeat(300), 'a..b', '\u0000', '-', 'ünï.cödé', '*.*', '127.0.0.1', '::1', '.'];
  const ips4 = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '10.1.2.3', '224.0.0.1'];
  const ips6 = ['::1', '::', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1'];
  const u32s = [0, 1, 2, 0x7fffffff, 0xffffffff, 65536, 4 * 1024 * 1024, 16 * 1024 * 1024];

  const value = (f: FieldType, name: string, type: MessageName): unknown => {
    if (typeof f === 'object' && 'list' in f) return Array.from({ length: int(3) }, () => value(f.list, name, type));
    if (typeof f === 'object') return Object.fromEntries(Object.entries(f.struct).map(([k, v]) => [k, value(v, k, type)]));
    switch (f) {
      case 'u8': return name === 'family' ? pick([0, 4, 6, 5, 255]) : int(256);
      // A Hello/HelloOk of another protocol version ends the link by design (link.ts): not a request.
      case 'u16': return name === 'version' ? PROTOCOL_VERSION : pick([0, 1, 65535, int(65536)]);
      case 'u32': return name === 'conn' ? pick([0, 1, 2, 3, int(1000)]) : pick(u32s);
      case 'i32': return pick([0, -1, 2147483647]);
      case 'u64': return pick([0n, 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(int(1 << 30))]);
      case 'i64': return pick([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]);
      case 'bool': return rnd() < 0.5;
      case 'bytes': return new Uint8Array(pick([0, 1, 100, 70000]));
      case 'str':
        if (name === 'path') return type === 'WriteFile' ? pick([`${scratch}/w${int(5)}`, 'rel', '', '/x\u0000']) : pick(paths);
        if (name === 'name' && type === 'Resolve') return pick(names);
        return pick(['', 'x', '\u0000', 'é'.repeat(int(50))]);
      case 'addr': {
        const family = rnd() < 0.5 ? 4 : 6;
        return { family, ip: pick(family === 4 ? ips4 : ips6), port: pick([0, 1, 53, 65535, int(65536)]) };
      }
    }
  };

  const kinds = Object.keys(messages).filter((n) => n !== 'Hello') as MessageName[];
  return (): Message => {
    const type = pick(kinds);
    const fields = Object.fromEntries(Object.entries(messages[type].fields).map(([k, f]) => [k, value(f as FieldType, k, type)]));
    return { type, id: rnd() < 0.1 ? 0 : 1 + int(0xfffffff0), ...fields } as unknown as Message;
  };
}

describe('agent: no request can kill it', () => {
  let agent: ChildProcess;
  let link: Link;
  let scratch: string;
  let exited: string | undefined;
  let stderr = '';

  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-fuzz-'));
    agent = spawn('unshare', ['--net', '--', process.execPath, path.join(packageRoot, 'dist/agent/main.js')], { stdio: ['pipe', 'pipe', 'pipe'] });
    agent.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    agent.once('exit', (code, sig) => (exited = `exit ${code} signal ${sig}`));
    link = new Link(agent.stdout!, agent.stdin!);
    const ok = await link.request('Hello', helloFrom(Role.intproxy, 'fuzz'));
    assert.equal(ok.type, 'HelloOk');
  });
  after(() => {
    link?.shutdown();
    agent?.kill('SIGKILL');
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  const localhost = async (): Promise<void> => {
    const r = await link.request('Resolve', { name: 'localhost', family: 4 });
    assert.equal(r.type, 'Resolved');
    assert.deepEqual(r.type === 'Resolved' && r.addrs.map((a) => a.ip), ['127.0.0.1']);
  };

  it('answers a Resolve after every batch of random requests, and never exits', async () => {
    const seed = Number(process.env['PODLINK_FUZZ_SEED'] ?? Date.now() % 100000);
    const next = requestFuzzer(seed, scratch);
    let answered = 0;
    let errors = 0;
    const recent: string[] = []; // the last requests sent, for the failure message
    const show = (m: Message): string =>
      JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(0, 300);
    for (let batch = 0; batch < 40; batch++) {
      const waits: Promise<unknown>[] = [];
      for (let i = 0; i < 50; i++) {
        const m = next();
        recent.push(show(m));
        if (recent.length > 60) recent.shift();
        if (m.id === 0 || messages[m.type].dir !== 'req') {
          link.send(m); // unsolicited frames and answers-as-requests: nothing to wait for
          continue;
        }
        const { type, id: _id, ...fields } = m;
        waits.push(
          link.request(type, fields as never).then(
            () => answered++,
            (e: unknown) => {
              assert.ok(e instanceof RemoteError, `not an Error answer: ${String(e)}`);
              assert.notEqual((e as RemoteError).message.startsWith('link closed'), true, `the agent went away (seed ${seed}): ${(e as Error).message}; ${exited ?? "still running"}; ${stderr}\nlast requests:\n${recent.join('\n')}`);
              errors++;
            },
          ),
        );
      }
      await Promise.all(waits);
      await localhost();
      assert.equal(exited, undefined, `the agent exited (seed ${seed}): ${exited}\n${stderr}\nlast requests:\n${recent.join('\n')}`);
    }
    assert.ok(answered + errors > 600, `only ${answered + errors} requests were answered (seed ${seed})`);
    assert.ok(errors > 100, `the fuzzer hit too few failing requests to mean anything (seed ${seed})`);
    // Nothing was written outside the scratch directory: every written name is one the fuzzer chose.
    for (const f of fs.readdirSync(scratch)) assert.match(f, /^w\d$/);
  });
});
