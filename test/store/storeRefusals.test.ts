// The store under a bad day (issue 15): another process holding the write lock, a full disk, a start on a full
// disk. Each refusal arrives fast as a catalog code (STORE_BUSY, STORAGE_FULL), reads keep working, nothing throws
// a raw SqliteError, and a store opened read-only says why.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { isCorralError } from '../../src/protocol/errors.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { BUSY_TIMEOUT_MS, DB_FILE_NAME, Store } from '../../src/store/Store.js';
import type { StoredSession } from '../../src/store/storeTypes.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

/** The event loop may stall on the store for at most this long per call (the busy timeout plus SQLite's own work). */
const MAX_STALL_MS = 100;

function session(id: string, padding = 0): StoredSession {
  const now = new Date().toISOString();
  const info: SessionInfo = {
    id,
    name: null,
    taskId: null,
    profile: 'shell',
    kind: 'pty',
    command: ['sh', '-c', 'x'.repeat(padding)],
    cwd: '/tmp',
    env: {},
    cols: 80,
    rows: 24,
    state: 'ready',
    stateReason: 'spawned',
    stateSource: 'process',
    pid: 1234,
    createdAt: now,
    startedAt: now,
    endedAt: null,
    lastActivityAt: now,
    exit: null,
    output: { totalBytes: 0, stdoutBytes: 0, stderrBytes: 0, firstAvailableOffset: 0 },
    usage: null,
    labels: {},
    limits: { maxLifetimeMs: null, idleTimeoutMs: null },
  };
  return { info, runtime: { pid: 1234, pidStartTime: 1, pgid: 1234 } };
}

function timed<T>(fn: () => T): { value: T | undefined; error: unknown; ms: number } {
  const started = performance.now();
  try {
    return { value: fn(), error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { value: undefined, error, ms: performance.now() - started };
  }
}

describe('a locked store', () => {
  let dir: string;
  let store: Store;
  let locker: Database.Database;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-store-locked-'));
    store = Store.open(dir);
    store.saveSession(session('s_before'));
    locker = new Database(path.join(dir, DB_FILE_NAME));
  });

  afterEach(() => {
    if (locker.inTransaction) locker.exec('ROLLBACK');
    locker.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`a write under another connection's BEGIN EXCLUSIVE is refused as STORE_BUSY within ${MAX_STALL_MS} ms, reads still answer`, () => {
    assert.ok(BUSY_TIMEOUT_MS <= 20, `busy timeout ${BUSY_TIMEOUT_MS} ms stalls the event loop`);
    locker.exec('BEGIN EXCLUSIVE');
    const write = timed(() => store.saveSession(session('s_during')));
    assert.ok(isCorralError(write.error) && write.error.code === 'STORE_BUSY', String(write.error));
    assert.ok(write.ms < MAX_STALL_MS, `the write stalled ${write.ms.toFixed(0)} ms`);
    const batch = timed(() => store.batch(() => store.appendEvent('s_before', { seq: 1, from: null, to: 'ready', at: new Date().toISOString(), reason: 'r', source: 'api' })));
    assert.ok(isCorralError(batch.error) && batch.error.code === 'STORE_BUSY', String(batch.error));
    assert.ok(batch.ms < MAX_STALL_MS, `the batch stalled ${batch.ms.toFixed(0)} ms`);
    const read = timed(() => store.getSession('s_before'));
    assert.equal(read.value?.info.id, 's_before');
    assert.ok(read.ms < MAX_STALL_MS, `the read stalled ${read.ms.toFixed(0)} ms`);

    locker.exec('ROLLBACK');
    store.saveSession(session('s_after'));
    assert.equal(store.getSession('s_after')?.info.id, 's_after');
    assert.equal(store.getSession('s_during'), undefined, 'a refused write changed nothing');
  });
});

describe('a full disk', () => {
  test('writes are refused as STORAGE_FULL, reads work, and a read-only open says why and refuses every write', (t) => {
    const disk = mountSmallDisk(6);
    if (typeof disk === 'string') {
      t.skip(disk);
      return;
    }
    try {
      const dataDir = path.join(disk.dir, 'data');
      let store = Store.open(dataDir);
      for (let i = 0; i < 20; i++) store.saveSession(session(`s_${i}`, 1000));
      disk.fill();
      let refusal: unknown;
      try {
        // Rows far bigger than the last free pages: SQLite needs pages the disk no longer has.
        for (let i = 20; i < 2000; i++) store.saveSession(session(`s_${i}`, 4000));
      } catch (error) {
        refusal = error;
      }
      assert.ok(isCorralError(refusal) && refusal.code === 'STORAGE_FULL', `expected STORAGE_FULL, got ${String(refusal)}`);
      assert.equal(store.getSession('s_3')?.info.id, 's_3');
      store.close();

      const reason = { message: 'the disk was full at start' };
      store = Store.open(dataDir, { readOnly: reason });
      try {
        assert.equal(store.readOnly, reason);
        assert.equal(store.getSession('s_3')?.info.id, 's_3');
        assert.ok(store.listSessions({ limit: 5 }).sessions.length > 0);
        assert.throws(
          () => store.saveSession(session('s_new')),
          (error: unknown) => isCorralError(error) && error.code === 'STORAGE_FULL' && error.message === reason.message,
        );
      } finally {
        store.close();
      }
    } finally {
      disk.unmount();
    }
  });

  test('a store closed cleanly (no -wal, no -shm) opens read-only on a disk full to the last byte, and serves its rows', (t) => {
    const disk = mountSmallDisk(2);
    if (typeof disk === 'string') {
      t.skip(disk);
      return;
    }
    try {
      const dataDir = path.join(disk.dir, 'data');
      const writable = Store.open(dataDir);
      for (let i = 0; i < 5; i++) writable.saveSession(session(`s_${i}`, 1000));
      writable.close();
      assert.deepEqual(fs.readdirSync(dataDir), [DB_FILE_NAME], 'a clean close leaves the database file alone');
      disk.fill();
      assert.equal(disk.freeBytes(), 0);
      // The read-only connection would have to create and size a -shm (SQLITE_IOERR_SHMSIZE once broke the start).
      const reason = { message: 'the disk was full at start' };
      const store = Store.open(dataDir, { readOnly: reason });
      try {
        assert.equal(store.readOnly, reason);
        assert.equal(store.getSession('s_3')?.info.id, 's_3');
        assert.equal(store.listSessions({ limit: 10 }).sessions.length, 5);
        assert.throws(() => store.saveSession(session('s_new')), (error: unknown) => isCorralError(error) && error.code === 'STORAGE_FULL');
      } finally {
        store.close();
      }
    } finally {
      disk.unmount();
    }
  });
});
