/**
 * One write per way and read (agent/incoming/turn-writes.ts), on a real Node Writable that records the
 * calls it gets: slices of one buffer that follow each other go out as one write of that memory (no
 * copy), anything else is corked into one writev, and a turn that gathered nothing writes nothing.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { TurnWrites } from '../../agent/incoming/turn-writes.js';

function recorder() {
  const calls: Buffer[][] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      calls.push([chunk]);
      done();
    },
    writev(chunks, done) {
      calls.push(chunks.map((c) => c.chunk as Buffer));
      done();
    },
  });
  return { w, calls, turn: new TurnWrites(() => w, (b) => w.write(b)) };
}

describe('the writes of one turn', () => {
  it('should join adjacent slices of one read into one write of the same memory', () => {
    const { calls, turn } = recorder();
    const read = Buffer.from('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
    turn.add(read.subarray(0, 19));
    turn.add(read.subarray(19, 30));
    turn.add(read.subarray(30));
    assert.equal(turn.flush(), true);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.length, 1);
    assert.equal(calls[0]![0]!.toString(), read.toString());
    assert.equal(calls[0]![0]!.buffer, read.buffer, 'a view of the read, not a copy');
  });

  it('should cork what is not adjacent into one writev, in order', () => {
    const { calls, turn } = recorder();
    const a = Buffer.from('one');
    const b = Buffer.from('two');
    const c = Buffer.from('three');
    turn.add(a);
    turn.add(b);
    turn.add(c);
    turn.flush();
    assert.deepEqual(calls.map((call) => call.map((x) => x.toString())), [['one', 'two', 'three']]);
  });

  it('should write nothing for a turn that gathered nothing, and forget what it drops', () => {
    const { calls, turn } = recorder();
    assert.equal(turn.flush(), true);
    turn.add(Buffer.from('lost'));
    turn.drop();
    assert.equal(turn.idle, true);
    turn.flush();
    assert.deepEqual(calls, []);
  });
});
