/**
 * The filtered steal's HTTP/1 dispatcher (agent/incoming/http1.ts) on real loopback sockets, with no
 * namespaces: a client connection is handed to it the way the port's dispatcher does, an "original
 * app" and a session's "local app" are servers on port 0, and each test looks at the bytes each side
 * got. What it must keep: requests forwarded byte for byte (header case, order and spacing, chunk
 * sizes), keep-alive alternation, pipelined answers in request order, chunked bodies both ways, HEAD,
 * 100-continue, until-close answers, upgrades wholly to one side, an unreachable session's requests to
 * the original app, and a 502 when the session's app fails before answering.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { IncomingSession, Opened } from '../../agent/incoming/delivery.js';
import type { RequestView } from '../../agent/incoming/filter.js';
import { Http1Dispatch } from '../../agent/incoming/http1.js';

/** Every server-side socket of the test, destroyed at the end. */
const sockets = new Set<net.Socket>();

type Answer = (conn: { got: () => string; write: (s: string) => void; end: () => void }, chunk: string) => void;

/** A raw server: records every byte it receives per connection, answers with a fresh `make()` per connection. */
function rawServer(make: () => Answer) {
  const conns: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const i = conns.push('') - 1;
    const answer = make();
    sockets.add(s);
    s.on('end', () => s.end());
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => {
      conns[i] += d.toString('latin1');
      answer({ got: () => conns[i]!, write: (x) => s.write(x), end: () => s.end() }, d.toString('latin1'));
    });
    s.on('error', () => undefined);
  });
  return { server, conns };
}

/** Resolves once `cond` holds (checked every 10 ms). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

const listen = (s: net.Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

/** Answers every complete request in `got` it has not answered yet; the body names the server and the target. */
function echoing(name: string, extra: (target: string) => string = () => '') {
  let answered = 0;
  return (c: { got: () => string; write: (s: string) => void }): void => {
    const heads = c.got().match(/[A-Z]+ \S+ HTTP\/1\.1\r\n(?:[^\r]+\r\n)*\r\n/g) ?? [];
    for (; answered < heads.length; answered++) {
      const target = heads[answered]!.split(' ')[1]!;
      const body = `${name} ${target}`;
      c.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra(target)}\r\n${body}`);
    }
  };
}

describe('HTTP/1 filtered steal: bytes as they are', () => {
  let pod: ReturnType<typeof rawServer>;
  let local: ReturnType<typeof rawServer>;
  let podPort: number;
  let localPort: number;
  let front: net.Server;
  let frontPort: number;
  let reachable = true;
  const opened: Duplex[] = [];

  const session: IncomingSession = {
    id: 's1',
    describe: 'test session',
    open: async (): Promise<Opened> => {
      if (!reachable) throw Object.assign(new Error('nothing listens'), { errno: 111 });
      const s = net.connect({ host: '127.0.0.1', port: localPort, allowHalfOpen: true });
      opened.push(s);
      return { relay: () => undefined, stream: () => s, abandon: () => s.destroy() };
    },
  };
  const choose = (v: RequestView) => (v.headers.some(([n, val]) => /^x-dev-user$/i.test(n) && val === 'alice') ? session : undefined);

  before(async () => {
    pod = rawServer(() => echoing('pod'));
    local = rawServer(() => echoing('local'));
    podPort = await listen(pod.server);
    localPort = await listen(local.server);
    const dispatch = new Http1Dispatch({ port: podPort, choose });
    front = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      s.on('error', () => undefined);
      dispatch.serve(s, { remote: { family: 4, ip: '127.0.0.1', port: s.remotePort! }, local: { family: 4, ip: '127.0.0.1', port: podPort } }, Buffer.alloc(0));
    });
    frontPort = await listen(front);
  });
  after(() => {
    for (const s of opened) s.destroy();
    for (const s of sockets) s.destroy();
    front.close();
    pod.server.close();
    local.server.close();
  });

  /** Sends `parts` (one write each, in order) on one connection; resolves with all it got when the peer ends or `until` is seen. */
  function exchange(parts: string[], until: (got: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: frontPort }, () => {
        for (const p of parts) s.write(p);
      });
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (until(got)) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
      s.on('end', () => resolve(got));
    });
  }
  const bodies = (got: string): string[] => [...got.matchAll(/\r\n\r\n(pod|local) ([^H\r]*?)(?=HTTP\/1\.1|$)/g)].map((m) => `${m[1]} ${m[2]}`);

  it('should forward pipelined requests byte for byte and answer them in request order', async () => {
    const reqs = [
      'GET /1 HTTP/1.1\r\nhost: a\r\nX-Dev-User: alice\r\n\r\n',
      'GET /2 HTTP/1.1\r\nHOST:   b  \r\nx-odd-Case: Yes\r\n\r\n',
      'GET /3 HTTP/1.1\r\nHost: c\r\nx-dev-user: alice\r\n\r\n',
      'GET /4 HTTP/1.1\r\nHost: d\r\n\r\n',
    ];
    const podBefore = pod.conns.length;
    const got = await exchange([reqs.join('')], (g) => (g.match(/HTTP\/1\.1 200/g) ?? []).length === 4);
    assert.deepEqual(bodies(got), ['local /1', 'pod /2', 'local /3', 'pod /4']);
    assert.equal(pod.conns.length - podBefore, 1, 'one connection to the original app');
    assert.equal(pod.conns.at(-1), reqs[1]! + reqs[3]!, 'the original app got the unmatched requests exactly as sent');
    assert.equal(local.conns.at(-1), reqs[0]! + reqs[2]!, 'the session got its requests exactly as sent');
  });

  it('should forward chunked request bodies unchanged, and alternate with keep-alive requests', async () => {
    const chunked = 'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer-A: 1\r\n\r\n';
    const plain = 'GET /after HTTP/1.1\r\nHost: x\r\nX-Dev-User: alice\r\n\r\n';
    // Split in awkward places: inside the chunk size line, between a body and the next request.
    const all = chunked + plain;
    const parts = [all.slice(0, 70), all.slice(70, 83), all.slice(83, chunked.length + 3), all.slice(chunked.length + 3)];
    const got = await exchange(parts, (g) => (g.match(/HTTP\/1\.1 200/g) ?? []).length === 2);
    assert.deepEqual(bodies(got), ['pod /up', 'local /after']);
    assert.equal(pod.conns.at(-1), chunked);
    assert.equal(local.conns.at(-1), plain);
  });

  it('should relay chunked, HEAD, 100-continue and until-close answers as the app wrote them', async () => {
    const answers = rawServer(() => (c, chunk) => {
      if (chunk.startsWith('HEAD')) c.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      else if (chunk.startsWith('GET /chunked')) c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\n');
      else if (chunk.startsWith('PUT')) c.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
      else if (chunk.startsWith('GET /close')) (c.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end'), c.end());
    });
    const port = await listen(answers.server);
    const dispatch = new Http1Dispatch({ port, choose: () => undefined });
    const f = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) =>
      dispatch.serve(s, { remote: { family: 4, ip: '127.0.0.1', port: 1 }, local: { family: 4, ip: '127.0.0.1', port } }, Buffer.alloc(0)),
    );
    const fport = await listen(f);
    try {
      const seq = async (reqs: string[], want: string): Promise<string> =>
        new Promise((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port: fport }, () => s.write(reqs.join('')));
          let got = '';
          s.on('data', (d) => {
            got += d.toString('latin1');
            if (got === want) (s.destroy(), resolve(got));
          });
          s.on('end', () => resolve(got));
          s.on('error', reject);
        });
      const a = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n';
      const b = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\n';
      assert.equal(await seq(['HEAD / HTTP/1.1\r\n\r\n'], a), a, 'a HEAD answer has no body, whatever its Content-Length');
      assert.equal(await seq(['GET /chunked HTTP/1.1\r\n\r\n'], b), b);
      const c = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
      assert.equal(await seq(['PUT /p HTTP/1.1\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\nx'], c), c);
      const d = 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end';
      assert.equal(await seq(['GET /close HTTP/1.1\r\n\r\n'], '\0'), d, 'an answer that runs until the close, then the client connection ends');
    } finally {
      f.close();
      answers.server.close();
    }
  });

  it('should give an upgrade and everything after it to the side that took the upgrade request', async () => {
    const up = 'GET /ws HTTP/1.1\r\nHost: x\r\nX-Dev-User: alice\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    const tail = 'GET /not-http-any-more HTTP/1.1\r\n\r\n';
    const before = local.conns.length;
    await exchange([up, tail], (g) => g.includes('local /ws'));
    await until(() => local.conns.at(-1)!.length >= up.length + tail.length);
    assert.equal(local.conns.length - before, 1);
    assert.equal(local.conns.at(-1), up + tail, 'the bytes after the upgrade request went with it');
  });

  it('should give an unreachable session\'s requests to the original app, in order', async () => {
    reachable = false;
    try {
      const got = await exchange(['GET /m HTTP/1.1\r\nX-Dev-User: alice\r\n\r\nGET /n HTTP/1.1\r\n\r\n'], (g) => (g.match(/HTTP\/1\.1 200/g) ?? []).length === 2);
      assert.deepEqual(bodies(got), ['pod /m', 'pod /n']);
    } finally {
      reachable = true;
    }
  });

  it('should answer 502 when the session\'s app closes before answering, after the earlier answers', async () => {
    const dying = rawServer(() => (c) => c.end());
    const port = await listen(dying.server);
    const old = localPort;
    localPort = port;
    try {
      const got = await exchange(['GET /ok HTTP/1.1\r\n\r\nGET /dies HTTP/1.1\r\nX-Dev-User: alice\r\n\r\n'], () => false);
      assert.match(got, /^HTTP\/1\.1 200 OK\r\n[\s\S]*pod \/okHTTP\/1\.1 502 Bad Gateway\r\n/);
    } finally {
      localPort = old;
      dying.server.close();
    }
  });
});
