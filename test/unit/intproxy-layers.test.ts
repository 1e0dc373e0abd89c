/**
 * The intproxy's layer server on its own (intproxy/layers.ts): a real unix socket for the layers, an
 * in-memory agent link whose answers the test scripts, and a fake outgoing side. It answers Hello
 * itself, forwards file and DNS requests under its own ids on the agent link, passes the agent's
 * errors through with their errno, refuses what a layer may not ask, and hands Connect/Release to
 * the outgoing side.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { E } from '../../common/errno.js';
import { LayerServer } from '../../intproxy/layers.js';
import type { IntproxyOutgoing } from '../../intproxy/outgoing.js';
import { Link, RemoteError } from '../../link/link.js';
import { validSamples } from '../../protocol/samples.js';
import type { Message, MessageOf } from '../../protocol/types.js';
import { connectLayer } from '../helpers/layer-client.js';

const AGENT_PID = 4321;
const stat = (validSamples.find((s) => s.name === 'stat-result')!.message as MessageOf<'StatResult'>).stat;

describe('intproxy layer server', () => {
  let dir: string;
  let server: LayerServer;
  let agentEnd: Link;
  /** What the agent was asked, in order. */
  const asked: Message[] = [];
  const released: number[] = [];
  const connects: MessageOf<'Connect'>[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-intproxy-'));
    const toAgent = new PassThrough();
    const toIntproxy = new PassThrough();
    const intproxyEnd = new Link(toIntproxy, toAgent);
    agentEnd = new Link(toAgent, toIntproxy);
    agentEnd.on('message', (m) => {
      asked.push(m);
      if (m.type === 'Stat' && m.path === '/missing') agentEnd.replyError(m, E.ENOENT, '/missing: no such file');
      else if (m.type === 'Stat') agentEnd.reply(m, { type: 'StatResult', stat });
      // service-c's answer may be reused for 5 s; service-b's not at all (ttl 0, as for /etc/hosts).
      else if (m.type === 'Resolve') agentEnd.reply(m, { type: 'Resolved', canonical: `${m.name}.default.svc.cluster.local`, addrs: [{ family: 4, ip: '10.77.0.20', port: 0 }], ttl: m.name === 'service-c' ? 5 : 0 });
    });
    const outgoing = {
      connect: async (m: MessageOf<'Connect'>) => {
        connects.push(m);
        return { conn: 77, local: { family: 4 as const, ip: '127.0.0.1', port: 40001 } };
      },
      release: (conn: number) => void released.push(conn),
      close: () => undefined,
    } as unknown as IntproxyOutgoing;
    server = new LayerServer(intproxyEnd, outgoing, AGENT_PID);
    await server.listen(path.join(dir, 'intproxy.sock'));
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should answer Hello itself with the agent pid, and remember the process', async () => {
    const layer = await connectLayer(path.join(dir, 'intproxy.sock'), 'hello-test');
    assert.deepEqual(server.processes.get(process.pid), { pid: process.pid, ppid: process.ppid, name: 'hello-test' });
    assert.equal(fs.statSync(path.join(dir, 'intproxy.sock')).mode & 0o777, 0o600);
    assert.deepEqual(asked.filter((m) => m.type === 'Hello'), []);
    layer.shutdown();
  });

  it('should forward Stat and Resolve to the agent and return its answers', async () => {
    const layer = await connectLayer(path.join(dir, 'intproxy.sock'));
    asked.length = 0;
    const a = await layer.request('Stat', { path: '/etc/app.conf', follow: true });
    const b = await layer.request('Resolve', { name: 'service-b', family: 0 });
    assert.deepEqual([a.type, a.type === 'StatResult' && a.stat], ['StatResult', stat]);
    assert.deepEqual(b.type === 'Resolved' && b.addrs, [{ family: 4, ip: '10.77.0.20', port: 0 }]);
    assert.deepEqual(asked.map(({ id: _id, ...m }) => m), [
      { type: 'Stat', path: '/etc/app.conf', follow: true },
      { type: 'Resolve', name: 'service-b', family: 0 },
    ]);
    layer.shutdown();
  });

  it('should answer a Resolve again from its answer while the TTL lasts, and ask again for one of TTL 0', async () => {
    const layer = await connectLayer(path.join(dir, 'intproxy.sock'));
    asked.length = 0;
    for (const name of ['service-c', 'service-c', 'service-b', 'service-b', 'service-c']) {
      const r = await layer.request('Resolve', { name, family: 0 });
      assert.deepEqual(r.type === 'Resolved' && [r.canonical, r.addrs, r.ttl], [`${name}.default.svc.cluster.local`, [{ family: 4, ip: '10.77.0.20', port: 0 }], name === 'service-c' ? 5 : 0]);
    }
    assert.deepEqual(asked.map((m) => m.type === 'Resolve' && m.name), ['service-c', 'service-b', 'service-b']);
    layer.shutdown();
  });

  it("should pass the agent's error through with its errno and message", async () => {
    const layer = await connectLayer(path.join(dir, 'intproxy.sock'));
    await assert.rejects(layer.request('Stat', { path: '/missing', follow: false }), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.deepEqual([e.errno, e.message], [E.ENOENT, '/missing: no such file']);
      return true;
    });
    layer.shutdown();
  });

  it('should refuse a request a layer may not make (EOPNOTSUPP), without asking the agent', async () => {
    const layer = await connectLayer(path.join(dir, 'intproxy.sock'));
    asked.length = 0;
    await assert.rejects(layer.request('GetEnv', {}), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.deepEqual([e.errno, e.message], [E.EOPNOTSUPP, 'the intproxy does not serve GetEnv from a layer']);
      return true;
    });
    assert.deepEqual(asked, []);
    layer.shutdown();
  });

  it('should hand Connect and Release to the outgoing side', async () => {
    const layer = await connectLayer(path.join(dir, 'intproxy.sock'));
    const remote = { family: 4 as const, ip: '10.77.0.20', port: 80 };
    const source = { family: 4 as const, ip: '0.0.0.0', port: 45678 };
    const r = await layer.request('Connect', { proto: 1, remote, localFamily: 4, source });
    assert.deepEqual(r.type === 'Connected' && { conn: r.conn, local: r.local }, { conn: 77, local: { family: 4, ip: '127.0.0.1', port: 40001 } });
    assert.deepEqual(connects.map(({ id: _id, type: _t, ...m }) => m), [{ proto: 1, remote, localFamily: 4, source }]);
    // Release has no answer: wait for it through the agent link's order (a Stat sent after it).
    layer.send({ type: 'Release', id: 0, conn: 77 });
    await layer.request('Stat', { path: '/etc/app.conf', follow: true });
    assert.deepEqual(released, [77]);
    layer.shutdown();
  });
});
