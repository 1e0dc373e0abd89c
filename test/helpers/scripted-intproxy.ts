/**
 * A scripted intproxy for the layer's own tests: a unix-socket server speaking the layer link
 * (docs/protocol.md) that answers from a table instead of an agent, and records every request.
 *
 * - files, dirs and symlinks of a fictional target filesystem (WriteFile updates it);
 * - DNS names;
 * - TCP and UDP "remotes": for Connect it opens a real loopback endpoint (a one-connection listener or
 *   a UDP socket) and serves it with the handler given for that remote address, exactly as the real
 *   intproxy would hand the user's socket an endpoint relayed to the target.
 *
 * - incoming: on Listen it answers Ok and delivers one connection to the app's listener, as the real
 *   intproxy delivers the target's clients — from loopback, greeting with `hello from <client>`, where
 *   <client> is a fictional remote (INCOMING_CLIENT_IP); IncomingPeer names that client for those
 *   connections and answers ENOENT for any other (a local client).
 *
 * `agentGone` makes it answer every request after Hello with Error{EHOSTDOWN}; `kill()` closes the
 * listener and every connection at once (an intproxy that died).
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FrameReader, encode } from '../../protocol/codec.js';
import { helloOk } from '../../link/hello.js';
import type { Addr, Message, MessageOf, Stat } from '../../protocol/types.js';
import { E, EHOSTDOWN } from '../../common/errno.js';

const { ENOENT, EIO, ECONNREFUSED, EINVAL, ENOTDIR, EISDIR } = E;

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;

export interface ScriptedFile {
  data: string | Buffer;
  mode?: number; // permission bits, default 0o644
  mtimeSec?: number;
  /** Chunks after the file's start are answered only once the gate file (ScriptedIntproxy.gate) exists. */
  gated?: boolean;
}

export interface ScriptedName {
  canonical?: string;
  addrs: string[];
}

export interface ScriptedTable {
  /** Absolute path → file. Parent directories exist implicitly. */
  files?: Record<string, ScriptedFile>;
  /** Extra (possibly empty) directories. */
  dirs?: string[];
  /** Absolute path → symlink target. */
  links?: Record<string, string>;
  /** Host name → answer, or an errno to answer with. */
  names?: Record<string, ScriptedName | { errno: number }>;
  /** "ip:port" → handler of each TCP connection the layer opens to that remote. */
  tcp?: Record<string, (socket: net.Socket, remote: Addr) => void>;
  /** "ip:port" → handler of each datagram sent to that remote; its return value is sent back. */
  udp?: Record<string, (msg: Buffer, remote: Addr) => Buffer | undefined>;
  /** The target's address families for AI_ADDRCONFIG (default: IPv4 only). */
  addrConfig?: { ipv4: boolean; ipv6: boolean };
  /** Answer everything after Hello with Error{EHOSTDOWN}. */
  agentGone?: boolean;
  /** Close each connection right after its first answer (a stale pooled connection for the layer). */
  hangUpAfterAnswer?: boolean;
}

export interface HelloSeen {
  pid: number;
  ppid: number;
  name: string;
}

/** The address the incoming connections the scripted intproxy delivers come from (a pod, for the app). */
export const INCOMING_CLIENT_IP = '10.77.0.99';

function addrKey(a: Addr): string {
  return a.family === 6 ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

export class ScriptedIntproxy {
  readonly requests: Message[] = [];
  readonly hellos: HelloSeen[] = [];
  /** Paths written back with WriteFile, with their final content. */
  readonly written = new Map<string, Buffer>();
  private readonly files = new Map<string, { data: Buffer; mode: number; mtimeSec: number; gated?: boolean }>();
  /** Created by a test's program to release the chunks of gated files. */
  readonly gate: string;
  private readonly dirs = new Set<string>(['/']);
  private readonly links = new Map<string, string>();
  private readonly sockets = new Set<net.Socket>();
  private readonly servers = new Set<net.Server>();
  private readonly udpSockets = new Map<number, dgram.Socket>();
  private nextConn = 1;
  /** Delivered incoming connections: the loopback port they come from → the client they stand for. */
  private readonly incoming = new Map<number, Addr>();
  private readonly delivering = new Set<Promise<void>>();
  private server!: net.Server;
  readonly sockPath: string;
  private readonly dir: string;

  private constructor(private readonly table: ScriptedTable) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-scripted-'));
    this.sockPath = path.join(this.dir, 'intproxy.sock');
    this.gate = path.join(this.dir, 'gate');
    for (const [p, f] of Object.entries(table.files ?? {})) {
      this.files.set(p, { data: Buffer.from(f.data), mode: f.mode ?? 0o644, mtimeSec: f.mtimeSec ?? 1_700_000_000, gated: f.gated });
      this.addParents(p);
    }
    for (const d of table.dirs ?? []) {
      this.dirs.add(d);
      this.addParents(d);
    }
    for (const [p, t] of Object.entries(table.links ?? {})) {
      this.links.set(p, t);
      this.addParents(p);
    }
  }

  static async start(table: ScriptedTable): Promise<ScriptedIntproxy> {
    const s = new ScriptedIntproxy(table);
    await s.listen();
    return s;
  }

  private addParents(p: string): void {
    let d = path.posix.dirname(p);
    while (!this.dirs.has(d)) {
      this.dirs.add(d);
      d = path.posix.dirname(d);
    }
  }

  private listen(): Promise<void> {
    this.server = net.createServer((sock) => this.serve(sock));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.sockPath, () => resolve());
    });
  }

  /** Requests of one type, in arrival order. */
  seen<N extends Message['type']>(type: N): MessageOf<N>[] {
    return this.requests.filter((m) => m.type === type) as MessageOf<N>[];
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    const reader = new FrameReader();
    let greeted = false;
    sock.on('data', (chunk) => {
      let msgs: Message[];
      try {
        msgs = reader.push(chunk);
      } catch {
        sock.destroy();
        return;
      }
      for (const m of msgs) {
        this.requests.push(m);
        if (!greeted) {
          if (m.type !== 'Hello') {
            sock.destroy();
            return;
          }
          greeted = true;
          this.hellos.push({ pid: m.pid, ppid: m.ppid, name: m.name });
          sock.write(encode({ ...helloOk(process.pid), id: m.id } as Message));
          continue;
        }
        void this.answer(m).then((res) => {
          if (res && !sock.destroyed) sock.write(encode(res));
          if (res && this.table.hangUpAfterAnswer) sock.end();
        });
      }
    });
  }

  private error(id: number, errno: number, message = ''): Message {
    return { type: 'Error', id, errno, message };
  }

  private resolveLink(p: string, depth = 0): string {
    const t = this.links.get(p);
    if (t === undefined || depth > 8) return p;
    return this.resolveLink(t.startsWith('/') ? t : path.posix.join(path.posix.dirname(p), t), depth + 1);
  }

  private statOf(p: string, follow: boolean): Stat | undefined {
    const target = follow ? this.resolveLink(p) : p;
    const base = {
      dev: 2049n, nlink: 1n, uid: 0, gid: 0, rdev: 0n, blksize: 4096n,
      atimeSec: 1_700_000_000n, atimeNsec: 0, ctimeSec: 1_700_000_000n, ctimeNsec: 0,
    };
    const ino = BigInt(1000 + [...target].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7));
    if (!follow && this.links.has(target)) {
      const len = BigInt(this.links.get(target)!.length);
      return { ...base, ino, mode: S_IFLNK | 0o777, size: len, blocks: 0n, mtimeSec: 1_700_000_000n, mtimeNsec: 0 };
    }
    const f = this.files.get(target);
    if (f) {
      const size = BigInt(f.data.length);
      return { ...base, ino, mode: S_IFREG | f.mode, size, blocks: (size + 511n) / 512n, mtimeSec: BigInt(f.mtimeSec), mtimeNsec: 0 };
    }
    if (this.dirs.has(target)) return { ...base, ino, mode: S_IFDIR | 0o755, size: 4096n, blocks: 8n, mtimeSec: 1_700_000_000n, mtimeNsec: 0 };
    return undefined;
  }

  private async answer(m: Message): Promise<Message | undefined> {
    if (m.type === 'Release') {
      this.udpSockets.get(m.conn)?.close();
      this.udpSockets.delete(m.conn);
      return undefined;
    }
    if (this.table.agentGone) return this.error(m.id, EHOSTDOWN, 'agent gone');
    switch (m.type) {
      case 'Stat': {
        const st = this.statOf(m.path, m.follow);
        return st ? { type: 'StatResult', id: m.id, stat: st } : this.error(m.id, ENOENT);
      }
      case 'Access':
        return this.statOf(m.path, true) ? { type: 'Ok', id: m.id } : this.error(m.id, ENOENT);
      case 'ReadLink': {
        const t = this.links.get(m.path);
        if (t !== undefined) return { type: 'Link', id: m.id, target: t };
        return this.statOf(m.path, false) ? this.error(m.id, EINVAL) : this.error(m.id, ENOENT);
      }
      case 'ReadDir': {
        const p = this.resolveLink(m.path);
        if (!this.dirs.has(p)) return this.error(m.id, this.files.has(p) ? ENOTDIR : ENOENT);
        const prefix = p === '/' ? '/' : `${p}/`;
        const direct = (q: string) => q.startsWith(prefix) && q !== p && !q.slice(prefix.length).includes('/');
        const entries = [
          { name: '.', ino: 1n, type: DT_DIR },
          { name: '..', ino: 2n, type: DT_DIR },
          ...[...this.dirs].filter(direct).map((q) => ({ name: q.slice(prefix.length), ino: 10n, type: DT_DIR })),
          ...[...this.files.keys()].filter(direct).map((q) => ({ name: q.slice(prefix.length), ino: 11n, type: DT_REG })),
          ...[...this.links.keys()].filter(direct).map((q) => ({ name: q.slice(prefix.length), ino: 12n, type: DT_LNK })),
        ];
        return { type: 'DirEntries', id: m.id, entries };
      }
      case 'ReadFile': {
        const p = this.resolveLink(m.path);
        const f = this.files.get(p);
        if (!f) return this.error(m.id, this.dirs.has(p) ? EISDIR : ENOENT);
        const start = Number(m.offset);
        if (f.gated && start > 0) while (!fs.existsSync(this.gate)) await new Promise((r) => setTimeout(r, 10));
        const data = f.data.subarray(start, start + m.max);
        return { type: 'FileData', id: m.id, stat: this.statOf(p, true)!, data, eof: start + data.length >= f.data.length };
      }
      case 'WriteFile': {
        const prev = this.files.get(m.path);
        let data = m.truncate || !prev ? Buffer.alloc(0) : prev.data;
        const off = Number(m.offset);
        const end = off + m.data.length;
        if (data.length < end) data = Buffer.concat([data, Buffer.alloc(end - data.length)]);
        Buffer.from(m.data).copy(data, off);
        this.files.set(m.path, { data, mode: prev?.mode ?? (m.mode & 0o7777), mtimeSec: 1_700_000_100 });
        this.addParents(m.path);
        this.written.set(m.path, data);
        return { type: 'Ok', id: m.id };
      }
      case 'Resolve': {
        const a = this.table.names?.[m.name];
        if (!a) return this.error(m.id, ENOENT, `no such name ${m.name}`);
        if ('errno' in a) return this.error(m.id, a.errno);
        const addrs = a.addrs
          .map((ip): Addr => ({ family: net.isIPv6(ip) ? 6 : 4, ip, port: 0 }))
          .filter((x) => m.family === 0 || x.family === m.family);
        if (addrs.length === 0) return this.error(m.id, 61);
        return { type: 'Resolved', id: m.id, canonical: a.canonical ?? m.name, addrs, ttl: 0 };
      }
      case 'GetAddrConfig':
        return { type: 'AddrConfig', id: m.id, ...(this.table.addrConfig ?? { ipv4: true, ipv6: false }) };
      case 'Connect':
        return m.proto === 1 ? this.connectTcp(m) : this.connectUdp(m);
      case 'Listen':
        if (m.port !== 0) this.deliver(m.local);
        return { type: 'Ok', id: m.id };
      case 'Unlisten':
        return undefined;
      case 'IncomingPeer': {
        await Promise.all(this.delivering);
        const remote = ['127.0.0.1', '::1'].includes(m.peer.ip) ? this.incoming.get(m.peer.port) : undefined;
        return remote ? { type: 'Peer', id: m.id, remote, local: m.listener } : this.error(m.id, ENOENT);
      }
      default:
        return this.error(m.id, EIO, `scripted intproxy does not answer ${m.type}`);
    }
  }

  /** One connection to the app's listener at `local`, standing for a client of the target. */
  private deliver(local: Addr): void {
    const remote: Addr = { family: 4, ip: INCOMING_CLIENT_IP, port: 40_000 + this.incoming.size };
    const host = local.family === 6 ? '::1' : '127.0.0.1';
    const sock = net.connect({ host: local.ip === '0.0.0.0' || local.ip === '::' ? host : local.ip, port: local.port });
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    const connected = new Promise<void>((resolve) => {
      sock.once('connect', () => {
        this.incoming.set(sock.localPort!, remote);
        sock.write(`hello from ${remote.ip}:${remote.port}\n`);
        resolve();
      });
      sock.once('close', () => resolve());
    });
    this.delivering.add(connected);
    void connected.then(() => this.delivering.delete(connected));
  }

  private async connectTcp(m: MessageOf<'Connect'>): Promise<Message> {
    const handler = this.table.tcp?.[addrKey(m.remote)];
    if (!handler) return this.error(m.id, ECONNREFUSED);
    const conn = this.nextConn++;
    const server = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      server.close();
      handler(sock, m.remote);
    });
    this.servers.add(server);
    server.on('close', () => this.servers.delete(server));
    // Always IPv4 loopback: the layer connects an AF_INET6 socket to ::ffff:127.0.0.1.
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    return { type: 'Connected', id: m.id, conn, local: { family: 4, ip: '127.0.0.1', port } };
  }

  private async connectUdp(m: MessageOf<'Connect'>): Promise<Message> {
    const handler = this.table.udp?.[addrKey(m.remote)];
    if (!handler) return this.error(m.id, ECONNREFUSED);
    const conn = this.nextConn++;
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const reply = handler(msg, m.remote);
      if (reply) sock.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    this.udpSockets.set(conn, sock);
    return { type: 'Connected', id: m.id, conn, local: { family: 4, ip: '127.0.0.1', port: sock.address().port } };
  }

  /** The intproxy dies: listener and every connection gone at once. */
  kill(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
    for (const s of this.servers) s.close();
    for (const u of this.udpSockets.values()) u.close();
    this.udpSockets.clear();
  }

  async close(): Promise<void> {
    this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
