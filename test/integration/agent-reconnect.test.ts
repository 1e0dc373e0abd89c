/**
 * An agent reached over the network, as on a cluster: the real agent in `--listen` mode (targetless,
 * serving this machine's loopback) and the real intproxy reaching it over TCP. The link is cut under a
 * running session (`ss -K` destroys the intproxy's socket, as a dropped port-forward would): relayed
 * connections open at that moment are reset, everything else works again without restarting; a wrong
 * token is refused; a vanished intproxy makes the agent exit after its grace period. Loopback only.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { agentEntry } from '../../common/paths.js';
import { Session } from '../../cli/session.js';
import { E } from '../../common/errno.js';
import { RemoteError, type Link } from '../../link/link.js';
import type { MessageOf } from '../../protocol/types.js';
import { connectLayer } from '../helpers/layer-client.js';
import { freePort } from '../helpers/ports.js';

function startAgent(port: number, token: string, graceS: number): { child: ChildProcess; exited: Promise<[number | null, string]> } {
  const child = spawn(process.execPath, [agentEntry, '--listen', String(port), '--grace', String(graceS), '--idle', '3'], {
    env: { ...process.env, PODLINK_AGENT_TOKEN: token },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit').then(([code]) => [code as number | null, stderr] as [number | null, string]);
  return { child, exited };
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the agent never listened on ${port}`);
}

/** As the layer does: the user's socket is bound first, and the endpoint serves only that port. */
async function openTcp(layer: Link, port: number): Promise<net.Socket> {
  const localPort = await freePort();
  const source = { family: 4 as const, ip: '0.0.0.0', port: localPort };
  const res = (await layer.request('Connect', { proto: 1, remote: { family: 4, ip: '127.0.0.1', port }, localFamily: 4, source })) as MessageOf<'Connected'>;
  const sock = net.connect({ port: res.local.port, host: res.local.ip, localAddress: '127.0.0.1', localPort });
  await once(sock, 'connect');
  return sock;
}

async function echoOnce(sock: net.Socket, text: string): Promise<string> {
  const got = once(sock, 'data');
  sock.write(text);
  return ((await got)[0] as Buffer).toString();
}

describe('agent over the network: reconnect, token, grace', () => {
  let echo: net.Server;
  let echoPort: number;

  before(async () => {
    echo = net.createServer((s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  after(() => echo.close());

  it('should carry on after the link is cut: open connections reset, new ones and file reads work', async () => {
    const port = await freePort();
    const token = randomBytes(16).toString('hex');
    const agent = startAgent(port, token, 20);
    await waitListening(port);
    const session = await Session.start({ kind: 'tcp', host: '127.0.0.1', port }, { startupTimeoutMs: 10_000, token, reconnectGraceMs: 10_000, log: { level: 'info' } });
    const events: string[] = [];
    session.onLink = (e) => events.push(e.type === 'linkUp' ? `up reset=${e.reset}` : 'down');
    try {
      const layer = await connectLayer(session.socketPath);
      const held = await openTcp(layer, echoPort);
      assert.equal(await echoOnce(held, 'before the cut'), 'before the cut');
      const heldClosed = new Promise<void>((resolve) => held.once('close', () => resolve()));
      held.on('error', () => undefined);

      const up = new Promise<void>((resolve) => {
        const prev = session.onLink;
        session.onLink = (e) => (prev(e), e.type === 'linkUp' && resolve());
      });
      const cut = spawnSync('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', String(port)], { encoding: 'utf8' });
      assert.equal(cut.status, 0, `ss -K: ${cut.stderr}`);
      await heldClosed; // the connection relayed at the drop is reset
      await up;
      assert.deepEqual(events, ['down', 'up reset=1']);

      const fresh = await openTcp(layer, echoPort);
      assert.equal(await echoOnce(fresh, 'after the cut'), 'after the cut');
      fresh.destroy();
      const file = (await layer.request('ReadFile', { path: '/proc/self/comm', offset: 0n, max: 4096 })) as MessageOf<'FileData'>;
      assert.equal(file.data.toString(), 'node\n', 'the agent process answers');
      assert.equal(session.lostReason, undefined, 'the session was never lost');
      assert.equal(agent.child.exitCode, null, 'the same agent serves on');
    } finally {
      await session.stop();
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  it('should refuse an intproxy with another session token, in one line', async () => {
    const port = await freePort();
    const agent = startAgent(port, 'right-token', 20);
    await waitListening(port);
    try {
      await assert.rejects(
        Session.start({ kind: 'tcp', host: '127.0.0.1', port }, { startupTimeoutMs: 5000, token: 'wrong-token', reconnectGraceMs: 1000, log: { level: 'info' } }),
        (e: Error) => {
          assert.equal(e.message, 'the agent did not start (this agent belongs to another podlink session (wrong session token))');
          return true;
        },
      );
      assert.equal(agent.child.exitCode, null, 'a refused intproxy does not stop the agent');
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });

  it('should exit after its grace period once the intproxy is gone for good', async () => {
    const port = await freePort();
    const token = randomBytes(8).toString('hex');
    const agent = startAgent(port, token, 2);
    await waitListening(port);
    const session = await Session.start({ kind: 'tcp', host: '127.0.0.1', port }, { startupTimeoutMs: 5000, token, reconnectGraceMs: 1000, log: { level: 'info' } });
    const layer = await connectLayer(session.socketPath);
    await layer.request('Stat', { path: '/', follow: true });
    await session.stop(); // the link closes and nobody comes back
    const [code, stderr] = await agent.exited;
    assert.equal(code, 0);
    assert.match(stderr, /exiting: no podlink session for 2 s/);
  });

  it('should give a session up when the agent cannot be reached again within the grace period', async () => {
    const port = await freePort();
    const token = randomBytes(8).toString('hex');
    const agent = startAgent(port, token, 30);
    await waitListening(port);
    const session = await Session.start({ kind: 'tcp', host: '127.0.0.1', port }, { startupTimeoutMs: 5000, token, reconnectGraceMs: 1500, log: { level: 'info' } });
    try {
      const layer = await connectLayer(session.socketPath);
      const lost = new Promise<string>((resolve) => session.onLost(resolve));
      agent.child.kill('SIGKILL'); // the agent vanishes with its pod
      assert.match(await lost, /could not be re-established within 1\.5 s/);
      await assert.rejects(layer.request('Stat', { path: '/', follow: true }), (e: unknown) => e instanceof RemoteError && e.errno === 112);
      await assert.rejects(
        layer.request('Connect', { proto: 1, remote: { family: 4, ip: '127.0.0.1', port: echoPort }, localFamily: 4, source: { family: 4, ip: '0.0.0.0', port: 0 } }),
        (e: unknown) => e instanceof RemoteError && (e.errno === 112 || e.errno === E.ECONNRESET),
      );
    } finally {
      await session.stop();
    }
  });
});
