// StoreWriter: a write the store refuses is kept in order and retried until stored; a re-saved row replaces its
// queued copy; inside `atomic` a refusal is the caller's; past the bound the oldest is given up and counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CorralError } from '../../src/protocol/errors.js';
import { MAX_QUEUED_WRITES, StoreWriter } from '../../src/engine/StoreWriter.js';

/** A store that refuses every write while `refusing` is set, like a full disk; `rows` is what got stored, in order. */
function fakeStore(): { refusing: boolean; rows: string[]; batch<T>(fn: () => T): T; readOnly: null; put(row: string): void } {
  return {
    refusing: false,
    rows: [],
    readOnly: null,
    batch<T>(fn: () => T): T {
      const before = this.rows.length;
      try {
        return fn();
      } catch (error) {
        this.rows.length = before; // rolled back
        throw error;
      }
    },
    put(row: string) {
      if (this.refusing) throw new CorralError('STORAGE_FULL', 'full (test)');
      this.rows.push(row);
    },
  };
}

test('refused writes wait in order, a re-saved row keeps its place with the newest content, and all are stored once the store takes them', async () => {
  const store = fakeStore();
  const logs: string[] = [];
  const writer = new StoreWriter(store, (_level, message) => logs.push(message));
  try {
    writer.write({ key: 'row:a', sessionId: 'a', run: () => store.put('row a v1') });
    store.refusing = true;
    writer.write({ key: 'row:a', sessionId: 'a', run: () => store.put('row a v2') });
    writer.write({ key: null, sessionId: 'a', run: () => store.put('event a 1') });
    writer.write({ key: 'row:a', sessionId: 'a', run: () => store.put('row a v3') });
    writer.write({ key: null, sessionId: 'b', run: () => store.put('event b 1') });
    assert.deepEqual(store.rows, ['row a v1']);
    assert.equal(writer.queuedFor('a'), 2);
    assert.equal(writer.health().queued, 3);
    assert.equal(writer.health().problem?.code, 'STORAGE_FULL');
    assert.equal(await writer.flushNow(), 3, 'still refused: nothing leaves the queue');

    store.refusing = false;
    assert.equal(await writer.flushNow(), 0);
    assert.deepEqual(store.rows, ['row a v1', 'row a v3', 'event a 1', 'event b 1']);
    assert.equal(writer.queuedFor('a'), 0);
    assert.equal(writer.health().ok, true);
    assert.ok(logs.some((message) => message.startsWith('the store refuses writes')));
    assert.ok(logs.some((message) => message.startsWith('the store takes writes again')));
  } finally {
    writer.dispose();
  }
});

test('inside atomic a refusal propagates to the caller and nothing is queued', () => {
  const store = fakeStore();
  const writer = new StoreWriter(store, () => undefined);
  try {
    store.refusing = true;
    assert.throws(
      () => writer.atomic(() => writer.write({ key: null, sessionId: 'a', run: () => store.put('start a') })),
      (error: unknown) => error instanceof CorralError && error.code === 'STORAGE_FULL',
    );
    assert.equal(writer.health().queued, 0);
  } finally {
    writer.dispose();
  }
});

test(`past ${MAX_QUEUED_WRITES} queued writes the oldest is given up and counted, never silently`, () => {
  const store = fakeStore();
  const logs: string[] = [];
  const writer = new StoreWriter(store, (_level, message) => logs.push(message));
  try {
    store.refusing = true;
    for (let i = 0; i < MAX_QUEUED_WRITES + 3; i++) writer.write({ key: null, sessionId: 's', run: () => store.put(`event ${i}`) });
    assert.equal(writer.health().queued, MAX_QUEUED_WRITES);
    assert.equal(writer.health().dropped, 3);
    assert.ok(logs.some((message) => message.includes('given up')));
  } finally {
    writer.dispose();
  }
});
