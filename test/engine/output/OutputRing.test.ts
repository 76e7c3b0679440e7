// The in-memory tail of a session's output: reads by absolute offset, eviction past the cap, and that evicted bytes
// are really let go (an ended session keeps its ring, so anything the ring still references lives as long as it).

import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'node:test';
import { OutputRing } from '../../../src/engine/output/OutputRing.js';

// A real collection, not a guess: the test can only prove "unreachable" by collecting.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

test('reads by absolute offset across chunks and reports where evicted bytes end', () => {
  const ring = new OutputRing(8);
  ring.append(Buffer.from('abcd'));
  ring.append(Buffer.from('efgh'));
  assert.equal(ring.read(2, 4).data.toString(), 'cdef');
  ring.append(Buffer.from('ijkl'));
  assert.equal(ring.firstOffset, 4, 'the oldest chunk is gone once the cap is passed');
  const read = ring.read(0, 100);
  assert.equal(read.offset, 4);
  assert.equal(read.data.toString(), 'efghijkl');
  assert.equal(ring.endOffset, 12);
});

test('a chunk larger than the cap keeps only its newest bytes', () => {
  const ring = new OutputRing(4);
  ring.append(Buffer.from('0123456789'));
  assert.equal(ring.firstOffset, 6);
  assert.equal(ring.read(0, 100).data.toString(), '6789');
});

test('evicted chunks are released at once, not when the chunk list is next compacted', async () => {
  const ring = new OutputRing(1024 * 1024);
  const evicted: WeakRef<Buffer>[] = [];
  // 200 chunks of 256 KiB through a 1 MiB ring: far fewer than the 1,024 slots that trigger a compaction.
  for (let i = 0; i < 200; i++) {
    const chunk = Buffer.alloc(256 * 1024, i % 256);
    if (i < 190) evicted.push(new WeakRef(chunk));
    ring.append(chunk);
  }
  await nextTurn();
  collectGarbage();
  await nextTurn();
  const alive = evicted.filter((ref) => ref.deref() !== undefined).length;
  assert.equal(alive, 0, `${alive} evicted chunks are still referenced by the ring`);
  assert.equal(ring.size, 1024 * 1024);
  assert.equal(ring.read(ring.firstOffset, 1).data[0], 196, 'and the newest 1 MiB is still readable');
});
