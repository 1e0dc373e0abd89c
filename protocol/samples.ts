/**
 * The test vectors: one or more sample of every message, and malformed frames every decoder must
 * reject. `gen.ts` writes them to protocol/vectors/ as raw bytes next to canonical JSON; the TS and the
 * C test suites both read those files.
 */
import { encode, msg } from './codec.js';
import { MAX_FRAME, PROTOCOL_VERSION } from './spec.js';
import type { Message, Stat } from './types.js';

const stat: Stat = {
  dev: 2049n, ino: 1310721n, mode: 0o100640, nlink: 1n, uid: 0, gid: 1000, rdev: 0n, size: 13n,
  blksize: 4096n, blocks: 8n, atimeSec: 1764000000n, atimeNsec: 123456789, mtimeSec: 1764000001n,
  mtimeNsec: 5, ctimeSec: -1n, ctimeNsec: 999999999,
};

export const validSamples: { name: string; message: Message }[] = [
  { name: 'hello-layer', message: msg('Hello', 1, { version: PROTOCOL_VERSION, build: '0.1.0', role: 1, pid: 4242, ppid: 4241, name: 'python3', token: '' }) },
  { name: 'hello-intproxy', message: msg('Hello', 2, { version: PROTOCOL_VERSION, build: '0.1.0', role: 2, pid: 3, ppid: 1, name: 'intproxy', token: '6f1c0a9e2b7d4c3a' }) },
  { name: 'hello-ok', message: msg('HelloOk', 1, { version: PROTOCOL_VERSION, build: '0.1.0', agentPid: 77 }) },
  { name: 'error-enoent', message: msg('Error', 9, { errno: 2, message: 'no such file: /etc/missing' }) },
  { name: 'ok', message: msg('Ok', 3, {}) },
  { name: 'ping', message: msg('Ping', 11, {}) },
  { name: 'pong', message: msg('Pong', 11, {}) },
  { name: 'resolve-any', message: msg('Resolve', 2, { name: 'service-b', family: 0 }) },
  { name: 'resolve-unicode', message: msg('Resolve', 3, { name: 'bücher.example', family: 4 }) },
  {
    name: 'resolved-mixed',
    message: msg('Resolved', 2, {
      canonical: 'service-b.default.svc.cluster.local',
      addrs: [
        { family: 4, ip: '10.96.0.12', port: 0 },
        { family: 6, ip: 'fd00:10:96::c', port: 0 },
      ],
      ttl: 5,
    }),
  },
  { name: 'resolved-empty', message: msg('Resolved', 4, { canonical: '', addrs: [], ttl: 0 }) },
  { name: 'stat-follow', message: msg('Stat', 5, { path: '/var/run/secrets/kubernetes.io/serviceaccount/token', follow: true }) },
  { name: 'stat-nofollow', message: msg('Stat', 6, { path: '/etc/hosts', follow: false }) },
  { name: 'stat-result', message: msg('StatResult', 5, { stat }) },
  { name: 'access', message: msg('Access', 7, { path: '/app/config.yaml', mode: 4 }) },
  { name: 'readlink', message: msg('ReadLink', 8, { path: '/etc/localtime' }) },
  { name: 'link', message: msg('Link', 8, { target: '/usr/share/zoneinfo/Etc/UTC' }) },
  { name: 'readdir', message: msg('ReadDir', 10, { path: '/app/config' }) },
  {
    name: 'dir-entries',
    message: msg('DirEntries', 10, {
      entries: [
        { name: '.', ino: 2n, type: 4 },
        { name: 'app.yaml', ino: 18446744073709551615n, type: 8 },
        { name: '..data', ino: 3n, type: 10 },
      ],
    }),
  },
  { name: 'readfile', message: msg('ReadFile', 12, { path: '/app/config/app.yaml', offset: 0n, max: 4194304 }) },
  { name: 'readfile-offset', message: msg('ReadFile', 13, { path: '/data/big.bin', offset: 4294967296n, max: 1 }) },
  { name: 'file-data', message: msg('FileData', 12, { stat, data: Buffer.from('hello, world\n'), eof: true }) },
  { name: 'file-data-binary', message: msg('FileData', 13, { stat, data: Buffer.from([0, 255, 10, 13, 0]), eof: false }) },
  { name: 'write-file', message: msg('WriteFile', 20, { path: '/data/out.txt', offset: 0n, data: Buffer.from('written\n'), truncate: true, mode: 0o644 }) },
  { name: 'get-env', message: msg('GetEnv', 14, {}) },
  { name: 'env', message: msg('Env', 14, { vars: [{ name: 'DB_PASSWORD', value: 's3cret=with=equals' }, { name: 'EMPTY', value: '' }] }) },
  { name: 'connect-tcp4', message: msg('Connect', 15, { proto: 1, remote: { family: 4, ip: '10.0.0.5', port: 8080 }, localFamily: 4, source: { family: 4, ip: '0.0.0.0', port: 41000 } }) },
  { name: 'connect-udp-mapped', message: msg('Connect', 16, { proto: 2, remote: { family: 6, ip: '::ffff:10.0.0.5', port: 53 }, localFamily: 6, source: { family: 6, ip: '::', port: 65535 } }) },
  { name: 'get-addr-config', message: msg('GetAddrConfig', 21, {}) },
  { name: 'addr-config-v4-only', message: msg('AddrConfig', 21, { ipv4: true, ipv6: false }) },
  { name: 'connected', message: msg('Connected', 15, { conn: 1, local: { family: 4, ip: '127.0.0.1', port: 40123 } }) },
  { name: 'connected-v6', message: msg('Connected', 16, { conn: 2, local: { family: 6, ip: '::1', port: 65535 } }) },
  { name: 'release', message: msg('Release', 17, { conn: 2 }) },
  { name: 'tcp-connect', message: msg('TcpConnect', 18, { conn: 4294967295, remote: { family: 4, ip: '192.168.1.1', port: 443 } }) },
  { name: 'udp-open', message: msg('UdpOpen', 19, { conn: 5, remote: { family: 6, ip: 'fd00::53', port: 53 } }) },
  { name: 'data', message: msg('Data', 0, { conn: 5, data: Buffer.from('GET / HTTP/1.1\r\n\r\n') }) },
  { name: 'data-empty', message: msg('Data', 0, { conn: 5, data: Buffer.alloc(0) }) },
  { name: 'window', message: msg('Window', 0, { conn: 5, bytes: 65536 }) },
  { name: 'shutdown', message: msg('Shutdown', 0, { conn: 5 }) },
  { name: 'close-reset', message: msg('Close', 0, { conn: 5, errno: 104 }) },
  { name: 'listen-any4', message: msg('Listen', 22, { local: { family: 4, ip: '0.0.0.0', port: 3000 }, port: 3000 }) },
  { name: 'listen-remapped6', message: msg('Listen', 23, { local: { family: 6, ip: '::1', port: 8080 }, port: 80 }) },
  { name: 'unlisten', message: msg('Unlisten', 24, { local: { family: 4, ip: '127.0.0.1', port: 3000 } }) },
  { name: 'incoming-peer', message: msg('IncomingPeer', 25, { listener: { family: 4, ip: '0.0.0.0', port: 3000 }, peer: { family: 4, ip: '127.0.0.1', port: 51234 } }) },
  { name: 'peer', message: msg('Peer', 25, { remote: { family: 4, ip: '10.244.0.17', port: 40912 }, local: { family: 4, ip: '10.244.0.9', port: 3030 } }) },
  { name: 'subscribe-mirror', message: msg('Subscribe', 26, { port: 8080, mode: 1, filter: { match: 0, rules: [] }, owner: { user: 'bob', host: 'laptop-2', since: 1764434400123n } }) },
  {
    name: 'subscribe-steal-filtered',
    message: msg('Subscribe', 27, {
      port: 65535,
      mode: 2,
      filter: { match: 2, rules: [{ field: 1, pattern: '^X-Dev-User: alice$' }, { field: 2, pattern: '^/api/' }, { field: 3, pattern: 'POST' }] },
      owner: { user: 'alice', host: 'alice-laptop.example', since: 0n },
    }),
  },
  { name: 'unsubscribe', message: msg('Unsubscribe', 28, { port: 8080 }) },
  {
    name: 'incoming-open',
    message: msg('IncomingOpen', 29, { conn: 0x80000001, port: 8080, mode: 2, remote: { family: 6, ip: 'fd00:10:244::11', port: 1 }, local: { family: 6, ip: 'fd00:10:244::9', port: 8080 } }),
  },
];

function frame(type: number, id: number, body: Buffer, lengthOverride?: number): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32LE(lengthOverride ?? 6 + body.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt32LE(id, 6);
  return Buffer.concat([head, body]);
}

const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const str = (s: Buffer): Buffer => Buffer.concat([u32(s.length), s]);

/** Malformed frames and the error code every decoder must report for them. */
export const invalidSamples: { name: string; bytes: Buffer; error: string }[] = [
  { name: 'short-length', bytes: Buffer.from([1, 0]), error: 'truncated' },
  { name: 'short-header', bytes: frame(0x0004, 1, Buffer.alloc(0), 3).subarray(0, 7), error: 'truncated' },
  { name: 'unknown-type', bytes: frame(0x7777, 1, Buffer.alloc(0)), error: 'unknown_type' },
  { name: 'ok-trailing', bytes: frame(0x0004, 1, Buffer.from([0])), error: 'trailing' },
  { name: 'length-beyond-data', bytes: frame(0x0004, 1, Buffer.alloc(0), 60), error: 'truncated' },
  { name: 'too-large', bytes: frame(0x0004, 1, Buffer.alloc(0), MAX_FRAME + 1), error: 'frame_too_large' },
  { name: 'bool-two', bytes: frame(0x0020, 1, Buffer.concat([str(Buffer.from('/x')), Buffer.from([2])])), error: 'bad_value' },
  { name: 'string-past-end', bytes: frame(0x0022, 1, Buffer.concat([u32(1000), Buffer.from('/x')])), error: 'truncated' },
  { name: 'string-bad-utf8', bytes: frame(0x0023, 1, str(Buffer.from([0x2f, 0xc3, 0x28]))), error: 'bad_value' },
  { name: 'list-count-huge', bytes: frame(0x0026, 1, u32(0xffffffff)), error: 'truncated' },
  {
    name: 'addr-family-five',
    bytes: frame(0x0041, 1, Buffer.concat([u32(1), Buffer.from([5, 0x50, 0, 127, 0, 0, 1])])),
    error: 'bad_value',
  },
  { name: 'stat-result-short', bytes: frame(0x0021, 1, Buffer.alloc(20)), error: 'truncated' },
  {
    // A protocol-1 layer's Hello (no build, no token): any other version is named, never misread.
    name: 'hello-protocol-1',
    bytes: frame(0x0001, 1, Buffer.concat([Buffer.from([1, 0, 1]), u32(4242), u32(4241), str(Buffer.from('curl'))])),
    error: 'version_mismatch',
  },
  {
    // A HelloOk from a future agent: version and build lead, the rest is unknown.
    name: 'hello-ok-protocol-9',
    bytes: frame(0x0002, 1, Buffer.concat([Buffer.from([9, 0]), str(Buffer.from('9.0.0')), Buffer.from([1, 2, 3])])),
    error: 'version_mismatch',
  },
  {
    // A valid Ok frame followed by half of another frame: decoding exactly one frame must refuse it.
    name: 'two-frames',
    bytes: Buffer.concat([encode(msg('Ok', 1, {})), Buffer.from([10, 0])]),
    error: 'trailing',
  },
];
