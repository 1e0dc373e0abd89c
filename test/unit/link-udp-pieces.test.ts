// A datagram whose Data frame reaches the link in pieces (FrameReader passes a Data payload on as it
// arrives) leaves the UDP relay whole, as one datagram: a real Link over a stream cut mid-frame, a real
// UdpRelay and real loopback sockets.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { encode } from '../../protocol/codec.js';
import { Link } from '../../link/link.js';
import { UdpRelay } from '../../link/relay.js';

describe('UDP relay and Data pieces', () => {
  it('sends a datagram that arrived in three pieces as one datagram', async () => {
    const server = dgram.createSocket('udp4');
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const client = dgram.createSocket('udp4');
    client.connect(server.address().port, '127.0.0.1');
    await once(client, 'connect');
    const input = new PassThrough();
    const link = new Link(input, new PassThrough());
    const relay = new UdpRelay(link, 9, client, undefined, () => undefined);
    link.on('message', (m) => relay.onFrame(m));
    const got: Buffer[] = [];
    server.on('message', (d) => got.push(d));
    try {
      const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 253));
      const frame = encode({ type: 'Data', id: 0, conn: 9, data: payload });
      for (const [from, to] of [[0, 100], [100, 2000], [2000, frame.length]] as const) {
        input.write(frame.subarray(from, to));
        await turn();
      }
      input.write(encode({ type: 'Data', id: 0, conn: 9, data: Buffer.from('second') }));
      while (got.length < 2) await once(server, 'message');
      assert.equal(got.length, 2);
      assert.ok(got[0]!.equals(payload), `first datagram: ${got[0]!.length} bytes, want the 3000 sent`);
      assert.equal(got[1]!.toString(), 'second');
    } finally {
      relay.destroy(0, true);
      server.close();
    }
  });
});
