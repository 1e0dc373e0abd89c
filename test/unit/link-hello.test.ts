/** The first exchange on a link: a peer of another protocol version is named, never misread. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { E } from '../../common/errno.js';
import { helloFrom, helloOk } from '../../link/hello.js';
import { Link, RemoteError } from '../../link/link.js';
import { PODLINK_BUILD } from '../../protocol/build.js';
import { PROTOCOL_VERSION, Role } from '../../protocol/spec.js';

/** Two links joined back to back, as the intproxy and the agent are over a pipe. */
function pair(): [Link, Link] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  return [new Link(ba, ab), new Link(ab, ba)];
}

/** A Hello frame of protocol 9 from podlink 9.0.0, laid out as every version must begin. */
function futureHello(id: number): Buffer {
  const build = Buffer.from('9.0.0');
  const body = Buffer.concat([Buffer.from([9, 0]), Buffer.from([build.length, 0, 0, 0]), build, Buffer.from('anything after')]);
  const head = Buffer.alloc(10);
  head.writeUInt32LE(6 + body.length, 0);
  head.writeUInt16LE(0x0001, 4);
  head.writeUInt32LE(id, 6);
  return Buffer.concat([head, body]);
}

describe('link hello', () => {
  it('should carry the release and the token in Hello, and the release back in HelloOk', async () => {
    const [client, server] = pair();
    server.on('message', (m) => {
      if (m.type === 'Hello') {
        assert.equal(m.build, PODLINK_BUILD);
        assert.equal(m.token, 'tok-1');
        assert.equal(m.role, Role.intproxy);
        server.reply(m, helloOk(4321));
      }
    });
    const res = await client.request('Hello', helloFrom(Role.intproxy, 'intproxy', 'tok-1'));
    assert.equal(res.type, 'HelloOk');
    assert.deepEqual(res.type === 'HelloOk' && [res.version, res.build, res.agentPid], [PROTOCOL_VERSION, PODLINK_BUILD, 4321]);
    client.shutdown();
    server.shutdown();
  });

  it('should answer a Hello of another protocol version with an Error naming both releases, then close', async () => {
    const toServer = new PassThrough();
    const fromServer = new PassThrough();
    const server = new Link(toServer, fromServer);
    let served = false;
    server.on('message', () => (served = true));
    const closed = once(server, 'close');
    toServer.write(futureHello(7));
    const [reason] = (await closed) as [Error];
    assert.equal(served, false, 'the foreign Hello is not handed on');
    assert.match(reason.message, /protocol version mismatch/);
    const answer = fromServer.read() as Buffer;
    // An Error frame (type 3) for id 7, errno EPROTO, with a message naming both sides.
    assert.equal(answer.readUInt16LE(4), 0x0003);
    assert.equal(answer.readUInt32LE(6), 7);
    assert.equal(answer.readUInt32LE(10), E.EPROTO);
    const message = answer.subarray(18).toString('utf8');
    assert.equal(
      message,
      `protocol version mismatch: this side is podlink ${PODLINK_BUILD} (protocol ${PROTOCOL_VERSION}), the peer podlink 9.0.0 (protocol 9)`,
    );
  });

  it('should fail the Hello request when the answer is a HelloOk of another protocol version', async () => {
    const toClient = new PassThrough();
    const fromClient = new PassThrough();
    const client = new Link(toClient, fromClient);
    const pending = client.request('Hello', helloFrom(Role.intproxy, 'intproxy'));
    await new Promise((r) => setImmediate(r)); // frames go out together at the end of the tick
    const sent = fromClient.read() as Buffer;
    const id = sent.readUInt32LE(6);
    const okFrame = futureHello(id);
    okFrame.writeUInt16LE(0x0002, 4);
    toClient.write(okFrame);
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.errno, E.EPROTO);
      assert.match(e.message, /the peer podlink 9\.0\.0 \(protocol 9\)/);
      return true;
    });
  });
});
