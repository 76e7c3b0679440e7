// PatternScan against a bare OutputStream, where the order of writes and turns of the event loop is exact: a
// write that lands while a finished catch-up is still unwinding must be scanned, not left for a next write.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { OutputStream } from '../../../src/engine/output/OutputStream.js';
import { PatternScan } from '../../../src/engine/output/PatternScan.js';

test('a match in a write that lands in the same turn as the write before it is found', async () => {
  const stream = new OutputStream(1024 * 1024, null);
  let matched = false;
  const scan = new PatternScan(stream, /^last$/m, 0, { onMatch: () => (matched = true), onError: (error) => assert.fail(String(error)) });
  // Two writes in one turn, as a backend delivers a burst: the first starts a catch-up that ends level with the
  // stream, the second arrives before that catch-up has been marked done. Nothing is written after them.
  stream.append(Buffer.from('first\n'));
  stream.append(Buffer.from('last\n'));
  await nextTurn();
  await scan.caughtUp();
  assert.equal(matched, true, 'the last write was scanned');
  scan.dispose();
});

test('a character cut by a write boundary is scanned once the rest of it arrives', async () => {
  const stream = new OutputStream(1024 * 1024, null);
  let matched = false;
  const scan = new PatternScan(stream, /café$/m, 0, { onMatch: () => (matched = true), onError: (error) => assert.fail(String(error)) });
  const bytes = Buffer.from('café\n');
  stream.append(bytes.subarray(0, 4));
  await nextTurn();
  assert.equal(matched, false, 'half a character is held back');
  stream.append(bytes.subarray(4));
  await nextTurn();
  await scan.caughtUp();
  assert.equal(matched, true);
  scan.dispose();
});
