/**
 * The connection table of a link end (link/conns.ts): id ranges that cannot collide between the two
 * ends, one owner per id, frames routed to their connection, unknown ids reset or dropped, and the
 * link's loss tearing down exactly the connections asked for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGENT_CONN_BIT, ConnTable, allocatedBy, type ConnFrame, type ConnHandler } from '../../link/conns.js';
import type { Message } from '../../protocol/types.js';

function sink() {
  const sent: Message[] = [];
  return { sent, send: (m: Message) => (sent.push(m), true), hold: () => undefined, release: () => undefined };
}

function handler() {
  const frames: ConnFrame[] = [];
  const destroyed: [number, boolean | undefined][] = [];
  const h: ConnHandler = { onFrame: (f) => void frames.push(f), destroy: (e, s) => void destroyed.push([e, s]) };
  return { h, frames, destroyed };
}

describe('connection table', () => {
  it('should allocate the intproxy ids below the top bit and the agent ids above it', () => {
    const a = new ConnTable('intproxy', sink());
    const b = new ConnTable('agent', sink());
    const ids = [a.allocate(), a.allocate(), b.allocate(), b.allocate()];
    assert.deepEqual(ids, [1, 2, AGENT_CONN_BIT + 1, AGENT_CONN_BIT + 2]);
    assert.equal(allocatedBy(ids[1]!), 'intproxy');
    assert.equal(allocatedBy(ids[2]!), 'agent');
  });

  it('should never hand out an id that is in use', () => {
    const t = new ConnTable('intproxy', sink());
    t.add(1, 'outgoing', 'out', handler().h);
    t.add(2, 'incoming', 'in', handler().h);
    assert.equal(t.allocate(), 3);
    assert.equal(t.add(3, 'outgoing', 'out', handler().h), true);
    assert.equal(t.add(3, 'incoming', 'in', handler().h), false, 'one owner per id');
  });

  it('should route frames to their connection, and reset Data for an unknown one only when asked', () => {
    const quiet = sink();
    const loud = sink();
    const a = new ConnTable('intproxy', quiet);
    const b = new ConnTable('agent', loud, { resetUnknown: true });
    const one = handler();
    a.add(7, 'outgoing', 'out', one.h);
    a.route({ type: 'Data', id: 0, conn: 7, data: Buffer.from('x') });
    a.route({ type: 'Data', id: 0, conn: 8, data: Buffer.from('y') });
    b.route({ type: 'Data', id: 0, conn: 8, data: Buffer.from('y') });
    b.route({ type: 'Window', id: 0, conn: 9, bytes: 10 });
    assert.equal(one.frames.length, 1);
    assert.deepEqual(quiet.sent, []);
    assert.deepEqual(loud.sent, [{ type: 'Close', id: 0, conn: 8, errno: 104 }]);
  });

  it('should tear down only the owner asked for when the link goes, silently, and count them', () => {
    const t = new ConnTable('agent', sink());
    const out = handler();
    const inc = handler();
    t.add(1, 'outgoing', 'in', out.h);
    t.add(AGENT_CONN_BIT + 1, 'incoming', 'out', inc.h);
    assert.equal(t.count('incoming'), 1);
    assert.equal(t.closeAll('incoming'), 1);
    assert.deepEqual(inc.destroyed, [[104, true]]);
    assert.deepEqual(out.destroyed, []);
    assert.equal(t.closeAll(), 1);
    assert.equal(t.count(), 0);
  });
});
