// The event hub's log across daemon runs, against a real SQLite store: ids stay valid after a restart (a new hub on
// the same store); events the store refused (another connection's lock) are logged once it takes writes again, and a
// resume past events that never reached the log is told so with a `not-logged` gap, never answered with a wrong
// replay. (A real daemon killed with kill -9 mid-churn:
// test/daemon/clientsRideRestart.test.ts.)

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import Database from 'better-sqlite3';
import { Emitter } from '../../../src/common/lifecycle.js';
import type { EngineEvent } from '../../../src/protocol/events.js';
import { DB_FILE_NAME, Store } from '../../../src/store/Store.js';
import { EventHub } from '../../../src/server/events/EventHub.js';

let dir: string;
let store: Store;
/** The engine's event source: the hub only subscribes to it. */
let engine: Emitter<EngineEvent>;
const hubs: EventHub[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-eventhub-'));
  store = Store.open(dir);
  engine = new Emitter<EngineEvent>();
});

afterEach(() => {
  for (const hub of hubs.splice(0)) hub.dispose();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function newHub(capacity = 16, current: Store = store): EventHub {
  const hub = new EventHub({ onEvent: engine.event }, { capacity, log: current });
  hubs.push(hub);
  return hub;
}

/** A daemon restart as the hub sees it: a new hub (a new boot) over the store reopened. */
function restart(capacity = 16): EventHub {
  for (const hub of hubs.splice(0)) hub.dispose();
  store.close();
  store = Store.open(dir);
  return newHub(capacity);
}

function emit(n: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    engine.fire({ type: 'command.finished', sessionId: `s${i}`, command: { seq: i } as never });
  }
}

test('ids stay valid across a restart: a resume gets the old run\'s and the new run\'s events after the id, in order', () => {
  const first = newHub();
  emit(3);
  const mid = first.lastId;
  emit(2, 3);
  const second = restart();
  assert.notEqual(second.boot, first.boot);
  emit(2, 5);
  const resume = second.resumeAfter(mid);
  assert.equal(resume.reason, 'ok');
  assert.equal(resume.lost, 0);
  assert.deepEqual(resume.events.map((e) => e.sessionId), ['s3', 's4', 's5', 's6']);
  assert.deepEqual(resume.events.map((e) => Number(e.id.split('.')[1])), [4, 5, 6, 7]);
  assert.deepEqual(second.resumeAfter(second.lastId), { events: [], lost: 0, reason: 'ok' });
});

test('the log keeps the backlog\'s size across restarts; an older id is evicted with its count', () => {
  const first = newHub(8);
  emit(300);
  const early = `${first.boot}.5`;
  const second = restart(8);
  const resume = second.resumeAfter(early);
  assert.equal(resume.reason, 'evicted');
  assert.equal(resume.lost, 300 - 8 - 5);
  assert.equal(resume.events.length, 8);
  // Pruned in the store too, not only in memory (every 256 events, back to the capacity).
  const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
  try {
    const { n } = db.prepare('SELECT count(*) AS n FROM event_log').get() as { n: number };
    assert.ok(n <= 8 + 256, `${n} rows`);
  } finally {
    db.close();
  }
});

/** Another connection holds the store's write lock while `fn` runs: the hub's writes fail STORE_BUSY meanwhile. */
function whileLocked(fn: () => void): void {
  const other = new Database(path.join(dir, DB_FILE_NAME));
  try {
    other.exec('BEGIN IMMEDIATE');
    fn();
    other.exec('COMMIT');
  } finally {
    other.close();
  }
}

test('events the store refused are still sent, and logged in order once it takes writes again', () => {
  const first = newHub();
  const seen: string[] = [];
  first.onEvent((e) => seen.push(e.id));
  emit(2);
  const from = first.lastId;
  whileLocked(() => emit(3, 2));
  assert.equal(seen.length, 5, 'refused events are sent all the same');
  emit(1, 5); // the store takes writes again: the waiting events go first
  const second = restart();
  const resume = second.resumeAfter(from);
  assert.deepEqual(resume, { events: resume.events, lost: 0, reason: 'ok' });
  assert.deepEqual(resume.events.map((e) => e.id), seen.slice(2));
});

test('a daemon that dies while its events wait for the store: a resume from one of them is told, never given a wrong replay', () => {
  const first = newHub();
  emit(2);
  let unlogged = '';
  whileLocked(() => {
    emit(2, 2);
    unlogged = first.lastId;
    // Still in memory for this run.
    assert.deepEqual(first.resumeAfter(`${first.boot}.2`).events.map((e) => e.sessionId), ['s2', 's3']);
  });
  // Dies before the store took them: the next run numbers from the log's newest and reuses seqs 3 and 4.
  const second = restart();
  emit(3, 4);
  const resume = second.resumeAfter(unlogged);
  assert.equal(resume.reason, 'not-logged');
  assert.equal(resume.lost, null, 'how many of the dead run\'s events were not logged is unknown');
  assert.deepEqual(resume.events.map((e) => e.sessionId), ['s6'], 'what was numbered after the id');
});

test('more events waiting for the store than the backlog holds: the oldest are given up, and a resume counts them', () => {
  const first = newHub(4);
  emit(2);
  const from = first.lastId;
  whileLocked(() => emit(6, 2)); // seqs 3–8; 4 wait, 3 and 4 are given up
  emit(1, 8); // seq 9 joins them (5 is given up), then all are logged
  const second = restart(16);
  const resume = second.resumeAfter(from);
  assert.equal(resume.reason, 'not-logged');
  assert.equal(resume.lost, 3);
  assert.deepEqual(resume.events.map((e) => e.sessionId), ['s5', 's6', 's7', 's8']);
});

test('an id this log never issued (another data dir) or a malformed one replays everything held, with a gap', () => {
  newHub();
  emit(3);
  const hub = restart();
  assert.equal(hub.resumeAfter('deadbeef.2').reason, 'other-boot');
  assert.equal(hub.resumeAfter('deadbeef.2').events.length, 3);
  assert.equal(hub.resumeAfter('nonsense').reason, 'malformed');
});
