/**
 * The floor arm: the smallest relay with podlink's shape, to measure podlink against in the same run.
 *
 *   client ─TCP─▶ near (Node, laptop) ══ one framed stream (the far side's stdin/stdout) ══▶ far (Node,
 *   in the target's network namespace) ─TCP─▶ destination
 *
 * That is the intproxy ⇄ agent path of a `pid/` target with everything but the relaying taken out:
 * no windows (a write the destination cannot take pauses the whole stream), no requests, no layer.
 * A frame is `u32 length | u32 conn | u8 kind | payload`, kind 0 data, 1 open (payload "host:port"),
 * 2 end (FIN), 3 close; header and payload go out in one writev, so no byte is copied on the way.
 *
 *   node dist/bench/floor.js near [LHOST:]LPORT=HOST:PORT… -- FAR_ARGV…   (prints {"ready":true,"ports":[…]})
 *   node dist/bench/floor.js far                                     (frames on stdin/stdout)
 * LPORT 0 picks a free port; LHOST is 127.0.0.1 unless given (bench/incoming.ts listens in the target). FAR_ARGV runs `floor.js far`, e.g. under nsenter into the target's netns.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';

const enum Kind {
  Data = 0,
  Open = 1,
  End = 2,
  Close = 3,
}
const HEADER = 9;

function send(out: Writable, conn: number, kind: Kind, payload?: Buffer): boolean {
  const h = Buffer.allocUnsafe(HEADER);
  h.writeUInt32LE(payload?.length ?? 0, 0);
  h.writeUInt32LE(conn, 4);
  h[8] = kind;
  if (!payload?.length) return out.write(h);
  out.cork();
  out.write(h);
  const ok = out.write(payload);
  out.uncork();
  return ok;
}

function deframe(input: Readable, onFrame: (conn: number, kind: Kind, payload: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  input.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= HEADER) {
      const len = buf.readUInt32LE(0);
      if (buf.length < HEADER + len) break;
      onFrame(buf.readUInt32LE(4), buf[8] as Kind, buf.subarray(HEADER, HEADER + len));
      buf = buf.subarray(HEADER + len);
    }
  });
}

/** Both ends relay the same way once a connection exists. */
function relay(conns: Map<number, net.Socket>, link: { input: Readable; output: Writable }, conn: number, s: net.Socket): void {
  conns.set(conn, s);
  s.setNoDelay(true);
  s.on('data', (d: Buffer) => {
    if (!send(link.output, conn, Kind.Data, d)) {
      s.pause();
      link.output.once('drain', () => s.resume());
    }
  });
  s.on('end', () => send(link.output, conn, Kind.End));
  s.on('error', () => undefined);
  s.on('close', () => {
    if (conns.delete(conn)) send(link.output, conn, Kind.Close);
  });
}

function onPeerFrame(conns: Map<number, net.Socket>, link: { input: Readable; output: Writable }, conn: number, kind: Kind, payload: Buffer): void {
  const s = conns.get(conn);
  if (!s) return;
  if (kind === Kind.Data) {
    if (!s.write(payload)) {
      link.input.pause();
      s.once('drain', () => link.input.resume());
    }
  } else if (kind === Kind.End) s.end();
  else if (kind === Kind.Close) {
    conns.delete(conn);
    s.destroy();
  }
}

function near(maps: string[], farArgv: string[]): void {
  const child = spawn(farArgv[0]!, farArgv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const link = { input: child.stdout!, output: child.stdin! };
  const conns = new Map<number, net.Socket>();
  let next = 1;
  deframe(link.input, (conn, kind, payload) => onPeerFrame(conns, link, conn, kind, payload));
  child.on('exit', () => process.exit(0));
  link.output.on('error', () => process.exit(0));
  const ports: number[] = [];
  for (const m of maps) {
    const [listen, dest] = m.split('=') as [string, string];
    const [lhost, lport] = listen.includes(':') ? (listen.split(':') as [string, string]) : ['127.0.0.1', listen];
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (s) => {
      const conn = next++;
      send(link.output, conn, Kind.Open, Buffer.from(dest));
      relay(conns, link, conn, s);
    });
    server.listen(Number(lport), lhost, () => {
      ports.push((server.address() as net.AddressInfo).port);
      if (ports.length === maps.length) process.stdout.write(`${JSON.stringify({ ready: true, ports })}\n`);
    });
  }
}

function far(): void {
  const link = { input: process.stdin as Readable, output: process.stdout as Writable };
  const conns = new Map<number, net.Socket>();
  deframe(link.input, (conn, kind, payload) => {
    if (kind !== Kind.Open) return onPeerFrame(conns, link, conn, kind, payload);
    const [host, port] = payload.toString().split(':') as [string, string];
    relay(conns, link, conn, net.connect({ host, port: Number(port), noDelay: true, allowHalfOpen: true }));
  });
  link.input.on('end', () => process.exit(0));
  link.output.on('error', () => process.exit(0));
}

const [role, ...rest] = process.argv.slice(2);
if (role === 'near') {
  const dash = rest.indexOf('--');
  near(rest.slice(0, dash), rest.slice(dash + 1));
} else if (role === 'far') far();
else {
  process.stderr.write('usage: floor.js near LPORT=HOST:PORT… -- FAR_ARGV… | floor.js far\n');
  process.exit(2);
}
