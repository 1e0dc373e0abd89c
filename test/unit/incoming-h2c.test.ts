/**
 * HTTP/1.1 `Upgrade: h2c` under a filtered steal (agent/incoming/h2c.ts), on real loopback sockets with
 * no namespaces: the dispatcher's HTTP/1 and HTTP/2 sides as the port's dispatcher joins them, an
 * "original app" and a session's "local app" that speak HTTP/2 (prior knowledge, as the dispatcher
 * reaches them), and curl as the client — it upgrades its first request and sends the next ones as
 * streams of the same connection. Every request, the upgrade request included, goes where the filter
 * says; an upgrade request with a body is given, with the rest of its connection, wholly to the side
 * that took it, as other upgrades are.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { IncomingSession, Opened } from '../../agent/incoming/delivery.js';
import type { RequestView } from '../../agent/incoming/filter.js';
import { Http1Dispatch, type Router } from '../../agent/incoming/http1.js';
import { Http2Dispatch } from '../../agent/incoming/http2.js';
import { requireTool } from '../helpers/requirements.js';

const listen = (s: net.Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

/** An HTTP/2 (prior knowledge) app answering `NAME PATH [BODY]`. */
function h2App(name: string): http2.Http2Server {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    let body = '';
    stream.on('data', (d: Buffer) => (body += d.toString()));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'x-served-by': name });
      stream.end(`${name} ${String(headers[':path'])}${body ? ` ${body}` : ''}\n`);
    });
  });
  return server;
}

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-v', '-m', '10', ...args], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr })));
  });
}

describe('filtered steal: an h2c upgrade is filtered per request', () => {
  const pod = h2App('pod');
  const local = h2App('local');
  let front: net.Server;
  let url: string;
  const opened: net.Socket[] = [];
  /** Bob's app: a raw server that records what it gets and answers one 200 naming how many bytes. */
  const bobGot: string[] = [];
  const bob = net.createServer((s) => {
    s.on('data', (d: Buffer) => {
      bobGot.push(d.toString('latin1'));
      const n = bobGot.join('').length;
      if (bobGot.join('').endsWith('data')) s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n`);
    });
    s.on('error', () => undefined);
  });

  before(async () => {
    requireTool('curl', ['--version']);
    const podPort = await listen(pod);
    const localPort = await listen(local);
    const bobPort = await listen(bob);
    /** A session whose local app listens at `port` on loopback. */
    const sessionAt = (id: string, describe: string, port: number): IncomingSession => ({
      id,
      describe,
      open: async (): Promise<Opened> => {
        const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
        opened.push(s);
        return { relay: () => undefined, stream: () => s, abandon: () => s.destroy() };
      },
    });
    const bobSession = sessionAt('s2', 'bob', bobPort);
    const session = sessionAt('s1', 'test session', localPort);
    const user = (v: RequestView): string | undefined => v.headers.find(([n]) => /^x-dev-user$/i.test(n))?.[1];
    const choose = (v: RequestView): IncomingSession | undefined => (user(v) === 'alice' ? session : user(v) === 'bob' ? bobSession : undefined);
    // The port's dispatcher joins its two sides so (dispatcher.ts).
    const router: Router = { port: podPort, choose, h2c: (s, ends, head) => h2.serve(s, ends, head) };
    const h2 = new Http2Dispatch(router);
    const h1 = new Http1Dispatch(router);
    front = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      s.on('error', () => undefined);
      h1.serve(s, { remote: { family: 4, ip: '127.0.0.1', port: s.remotePort! }, local: { family: 4, ip: '127.0.0.1', port: podPort } }, Buffer.alloc(0));
    });
    url = `http://127.0.0.1:${await listen(front)}`;
  });
  after(() => {
    for (const s of opened) s.destroy();
    front.close();
    pod.close();
    local.close();
    bob.close();
  });

  it('should give each request after the upgrade, and the upgrade request itself, to the side its filter picks', async () => {
    const alice = ['-H', 'X-Dev-User: alice'];
    const r = await curl(['--http2', ...alice, `${url}/one`, '--next', '--http2', `${url}/two`, '--next', '--http2', ...alice, `${url}/three?q=1`, '--next', '--http2', `${url}/four`]);
    assert.deepEqual(r.stdout.trim().split('\n'), ['local /one', 'pod /two', 'local /three?q=1', 'pod /four']);
    assert.match(r.stderr, /< HTTP\/1\.1 101 Switching Protocols/, 'the first request was upgraded');
    assert.equal((r.stderr.match(/< HTTP\/2 200/g) ?? []).length, 4, 'every answer came over HTTP/2');
    assert.equal((r.stderr.match(/Re-using existing connection/g) ?? []).length, 3, 'on one connection');
  });

  it('should filter the upgrade request by its own headers when it is not the filter\'s, and keep the answer\'s headers', async () => {
    const r = await curl(['--http2', `${url}/first`, '--next', '--http2', '-H', 'X-Dev-User: alice', `${url}/second`]);
    assert.deepEqual(r.stdout.trim().split('\n'), ['pod /first', 'local /second']);
    assert.deepEqual((r.stderr.match(/< x-served-by: \w+/g) ?? []).map((l) => l.slice(2)), ['x-served-by: pod', 'x-served-by: local']);
  });

  it('should give an upgrade request with a body wholly to one side, as other upgrades', async () => {
    const request = 'POST /posted HTTP/1.1\r\nHost: x\r\nX-Dev-User: bob\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 4\r\n\r\ndata';
    const got = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: Number(new URL(url).port) }, () => c.write(request));
      let answer = '';
      c.on('data', (d: Buffer) => {
        answer += d.toString('latin1');
        if (answer.includes('\r\n\r\n')) c.end();
      });
      c.on('error', reject);
      c.on('close', () => resolve(answer));
    });
    assert.equal(got, `HTTP/1.1 200 OK\r\nContent-Length: ${request.length}\r\n\r\n`, 'bob\'s app answered, not the dispatcher');
    assert.equal(bobGot.join(''), request, 'bob\'s app got the request as it was sent');
  });
});
