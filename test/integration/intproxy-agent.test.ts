/**
 * The real intproxy and the real agent (under nsenter, targeting this test's own process), driven
 * from a TypeScript layer client: outgoing TCP and UDP through the loopback endpoints, flow control
 * under load, one stalled reader not stalling another connection, and what happens when the agent dies.
 * All traffic stays on loopback. Needs root (nsenter).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Session } from '../../cli/session.js';
import { EHOSTDOWN } from '../../common/errno.js';
import { pidTarget } from '../../cli/target.js';
import { RemoteError, type Link } from '../../link/link.js';
import type { MessageOf } from '../../protocol/types.js';
import { connectLayer } from '../helpers/layer-client.js';
import { freePort } from '../helpers/ports.js';

function tcpServer(onSocket: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve) => {
    const srv = net.createServer(onSocket);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

function portOf(s: net.Server): number {
  return (s.address() as net.AddressInfo).port;
}

async function openTcp(layer: Link, port: number): Promise<net.Socket> {
  const localPort = await freePort();
  const source = { family: 4 as const, ip: '0.0.0.0', port: localPort };
  const res = (await layer.request('Connect', { proto: 1, remote: { family: 4, ip: '127.0.0.1', port }, localFamily: 4, source })) as MessageOf<'Connected'>;
  assert.equal(res.type, 'Connected');
  const sock = net.connect({ port: res.local.port, host: res.local.ip, localAddress: '127.0.0.1', localPort });
  await new Promise((r) => sock.once('connect', r));
  return sock;
}

function readAll(sock: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('intproxy and agent, over the real link', () => {
  let session: Session;
  let layer: Link;
  let echo: net.Server;
  let blob: net.Server;
  const blobData = randomBytes(8 * 1024 * 1024 + 123);

  before(async () => {
    session = await Session.start({ kind: 'spawn', argv: pidTarget(`pid/${process.pid}`).agentArgv }, { startupTimeoutMs: 20_000, log: { level: 'info' } });
    layer = await connectLayer(session.socketPath);
    echo = await tcpServer((s) => s.pipe(s));
    blob = await tcpServer((s) => s.end(blobData));
  });

  after(async () => {
    await session?.stop();
    echo?.close();
    blob?.close();
  });

  it('relays a TCP connection both ways, half-close included', async () => {
    const sock = await openTcp(layer, portOf(echo));
    const got = readAll(sock);
    sock.end('ping through the target');
    assert.equal((await got).toString(), 'ping through the target');
  });

  it('moves 8 MiB intact through the windows', async () => {
    const sock = await openTcp(layer, portOf(blob));
    const got = await readAll(sock);
    assert.equal(got.length, blobData.length);
    assert.equal(sha(got), sha(blobData));
  });

  it('holds back a stalled reader at its window and keeps other connections flowing', async () => {
    const big = randomBytes(64 * 1024 * 1024);
    let flushed = 0; // bytes the kernel has taken from the source, chunk by chunk
    const bigServer = await tcpServer((s) => {
      for (let off = 0; off < big.length; off += 65536) {
        const part = big.subarray(off, off + 65536);
        s.write(part, () => (flushed += part.length));
      }
      s.end();
    });
    const stalled = await openTcp(layer, portOf(bigServer));
    stalled.pause();
    // Wait until the source stops making progress. Without per-connection windows the agent would
    // pull all 64 MiB through the shared stream into the intproxy's memory.
    let last = -1;
    for (let still = 0; still < 4; ) {
      await new Promise((r) => setTimeout(r, 50));
      still = flushed === last ? still + 1 : 0;
      last = flushed;
    }
    assert.ok(last < 32 * 1024 * 1024, `${last} bytes left the source while its reader was stalled: no flow control`);
    const other = await openTcp(layer, portOf(blob));
    assert.equal(sha(await readAll(other)), sha(blobData));
    const rest = readAll(stalled);
    stalled.resume();
    assert.equal(sha(await rest), sha(big));
    bigServer.close();
  });

  it('reports a refused connection with ECONNREFUSED', async () => {
    const closed = await tcpServer(() => undefined);
    const port = portOf(closed);
    await new Promise((r) => closed.close(r));
    await assert.rejects(
      layer.request('Connect', { proto: 1, remote: { family: 4, ip: '127.0.0.1', port }, localFamily: 4, source: { family: 4, ip: '0.0.0.0', port: 1 } }),
      (e: unknown) => e instanceof RemoteError && e.errno === 111,
    );
  });

  it('round-trips UDP datagrams through the relay', async () => {
    const server = dgram.createSocket('udp4');
    server.on('message', (m, r) => server.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '0.0.0.0', r));
    const source = { family: 4 as const, ip: '0.0.0.0', port: client.address().port };
    const res = (await layer.request('Connect', { proto: 2, remote: { family: 4, ip: '127.0.0.1', port: server.address().port }, localFamily: 4, source })) as MessageOf<'Connected'>;
    const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
    client.send('hello-udp', res.local.port, res.local.ip);
    assert.equal(await reply, 'echo:hello-udp');
    client.close();
    server.close();
  });

  it('serves files and the environment of the target', async () => {
    const data = (await layer.request('ReadFile', { path: `/proc/${process.pid}/cmdline`, offset: 0n, max: 65536 })) as MessageOf<'FileData'>;
    assert.ok(data.data.toString().includes('node'));
    await assert.rejects(layer.request('Stat', { path: '/definitely/not/here', follow: true }), (e: unknown) => e instanceof RemoteError && e.errno === 2);
  });

  it('fails fast, not hangs, once the agent is killed', async () => {
    const live = await openTcp(layer, portOf(echo));
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    live.on('error', () => undefined);
    const lost = new Promise<string>((resolve) => session.onLost(resolve));
    process.kill(session.agentPid, 'SIGKILL');
    assert.match(await lost, /agent (killed by SIGKILL|exited)/);
    await closed; // the relayed socket is torn down
    await assert.rejects(
      layer.request('Stat', { path: '/etc/hostname', follow: true }),
      (e: unknown) => e instanceof RemoteError && e.errno === EHOSTDOWN,
    );
  });
});
