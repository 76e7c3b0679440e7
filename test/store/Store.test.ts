// Store round-trips, paging, retention, restart and two-connection behaviour against a real SQLite file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { CorralError } from '../../src/protocol/errors.js';
import type { SessionInfo, SessionState, StateEvent } from '../../src/protocol/sessionTypes.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { DB_FILE_NAME, MAX_DELIVERIES_PER_WEBHOOK, Store } from '../../src/store/Store.js';
import type { CommandRecord } from '../../src/protocol/commandHistory.js';
import type { StoredSession } from '../../src/store/storeTypes.js';

const STORE_MODULE = fileURLToPath(new URL('../../src/store/Store.ts', import.meta.url));

function makeSession(id: string, overrides: Partial<SessionInfo> = {}): StoredSession {
  const info: SessionInfo = {
    id,
    name: null,
    taskId: null,
    profile: 'shell',
    kind: 'pty',
    command: ['bash', '-l'],
    cwd: '/tmp',
    env: { FOO: 'bar' },
    cols: 80,
    rows: 24,
    state: 'ready',
    stateReason: 'spawned',
    stateSource: 'process',
    pid: 1234,
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:00.100Z',
    endedAt: null,
    lastActivityAt: '2025-01-01T00:00:01.000Z',
    exit: null,
    output: { totalBytes: 10, stdoutBytes: 0, stderrBytes: 0, firstAvailableOffset: 0 },
    usage: null,
    labels: { team: 'a' },
    limits: { maxLifetimeMs: null, idleTimeoutMs: 60_000 },
    ...overrides,
  };
  return { info, runtime: { pid: info.pid, pidStartTime: 987654, pgid: info.pid } };
}

function minuteIso(minute: number): string {
  return new Date(Date.UTC(2025, 0, 1, 0, minute)).toISOString();
}

function event(seq: number, from: SessionState | null, to: SessionState): StateEvent {
  return { seq, from, to, at: minuteIso(seq), reason: `r${seq}`, source: 'process' };
}

function command(sessionId: string, seq: number): CommandRecord {
  return {
    sessionId,
    seq,
    kind: 'exec',
    text: `echo ${seq}`,
    startedAt: minuteIso(seq),
    endedAt: null,
    exitCode: null,
    cwd: '/tmp',
    outputStart: seq * 100,
    outputEnd: null,
    timedOut: false,
    durationMs: null,
  };
}

describe('Store', () => {
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-store-'));
    store = Store.open(dir);
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('opens the file in WAL mode with foreign keys on and the schema at the latest version', () => {
    const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  test('a saved session reads back identical, and saving again replaces it', () => {
    const rec = makeSession('s_a');
    store.saveSession(rec);
    assert.deepEqual(store.getSession('s_a'), rec);

    const ended = makeSession('s_a', {
      state: 'terminated',
      endedAt: '2025-01-01T01:00:00.000Z',
      exit: { code: 0, signal: null, reason: 'exited', forced: false, at: '2025-01-01T01:00:00.000Z' },
    });
    ended.runtime = { pid: null, pidStartTime: null, pgid: null };
    store.saveSession(ended);
    assert.deepEqual(store.getSession('s_a'), ended);
  });

  test('unknown ids return undefined, false or empty lists instead of throwing', () => {
    assert.equal(store.getSession('nope'), undefined);
    assert.equal(store.appendEvent('nope', event(1, null, 'initializing')), false);
    assert.deepEqual(store.listEvents('nope', { limit: 10 }), []);
    assert.equal(store.addCommand(command('nope', 1)), false);
    assert.equal(
      store.finishCommand('nope', 1, { endedAt: minuteIso(2), exitCode: 0, outputEnd: 1, timedOut: false, durationMs: 1 }),
      false,
    );
    assert.deepEqual(store.listCommands('nope', { limit: 10 }), []);
    assert.equal(store.getTemplate('nope'), undefined);
    assert.equal(store.deleteTemplate('nope'), false);
    assert.equal(store.getMacro('nope'), undefined);
    assert.equal(store.deleteMacro('nope'), false);
    assert.equal(store.getWebhook('nope'), undefined);
    assert.equal(store.deleteWebhook('nope'), false);
    assert.equal(store.recordDelivery({ webhookId: 'nope', eventId: 'e', attempt: 1, status: 200, error: null, at: minuteIso(0) }), false);
    assert.deepEqual(store.listDeliveries('nope', 10), []);
  });

  test('listSessions pages newest first with a stable cursor even while sessions are added', () => {
    for (let i = 0; i < 25; i++) {
      // Pairs share a createdAt so the id tie-break is exercised.
      store.saveSession(makeSession(`s_${String(i).padStart(2, '0')}`, { createdAt: minuteIso(Math.floor(i / 2)) }));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = store.listSessions({ limit: 10, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.sessions.map((s) => s.info.id));
      pages++;
      if (pages === 1) store.saveSession(makeSession('s_new', { createdAt: minuteIso(100) }));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    assert.equal(pages, 3);
    const expected = Array.from({ length: 25 }, (_, i) => `s_${String(24 - i).padStart(2, '0')}`);
    assert.deepEqual(seen, expected);
    assert.equal(store.listSessions({ limit: 1 }).sessions[0]?.info.id, 's_new');
  });

  test('listSessions filters by state, taskId, profile and liveness', () => {
    store.saveSession(makeSession('s1', { state: 'busy', taskId: 't1', profile: 'claude', createdAt: minuteIso(1) }));
    store.saveSession(makeSession('s2', { state: 'terminated', taskId: 't1', endedAt: minuteIso(5), createdAt: minuteIso(2) }));
    store.saveSession(makeSession('s3', { state: 'idle', taskId: 't2', createdAt: minuteIso(3) }));
    const ids = (q: Parameters<Store['listSessions']>[0]): string[] => store.listSessions(q).sessions.map((s) => s.info.id);
    assert.deepEqual(ids({ limit: 10, state: 'busy' }), ['s1']);
    assert.deepEqual(ids({ limit: 10, taskId: 't1' }), ['s2', 's1']);
    assert.deepEqual(ids({ limit: 10, profile: 'shell' }), ['s3', 's2']);
    assert.deepEqual(ids({ limit: 10, live: true }), ['s3', 's1']);
    assert.deepEqual(ids({ limit: 10, live: false }), ['s2']);
    assert.deepEqual(ids({ limit: 10, live: true, taskId: 't1' }), ['s1']);
  });

  test('a malformed cursor is refused with BAD_REQUEST', () => {
    assert.throws(
      () => store.listSessions({ limit: 10, cursor: 'not-a-cursor' }),
      (err: unknown) => err instanceof CorralError && err.code === 'BAD_REQUEST',
    );
  });

  test('listLiveSessions returns every session not terminated, with the runtime needed for recovery', () => {
    store.saveSession(makeSession('live1', { state: 'busy', createdAt: minuteIso(1) }));
    store.saveSession(makeSession('live2', { state: 'terminating', createdAt: minuteIso(2) }));
    store.saveSession(makeSession('dead', { state: 'terminated', endedAt: minuteIso(3), createdAt: minuteIso(3) }));
    const live = store.listLiveSessions();
    assert.deepEqual(live.map((s) => s.info.id), ['live1', 'live2']);
    assert.deepEqual(live[0]?.runtime, { pid: 1234, pidStartTime: 987654, pgid: 1234 });
  });

  test('state events round-trip in seq order and page with afterSeq', () => {
    store.saveSession(makeSession('s'));
    const events = [event(1, null, 'initializing'), event(2, 'initializing', 'ready'), event(3, 'ready', 'busy')];
    for (const ev of events) assert.equal(store.appendEvent('s', ev), true);
    assert.deepEqual(store.listEvents('s', { limit: 10 }), events);
    assert.deepEqual(store.listEvents('s', { afterSeq: 1, limit: 1 }), [events[1]]);
    assert.throws(() => store.appendEvent('s', event(2, 'busy', 'idle')), /UNIQUE|PRIMARY KEY/);
  });

  test('the newest event of a session with more events than a page, alone and for every live session in one read', () => {
    // More than MAX_PAGE_LIMIT (1,000): a first page's last event is not the session's last.
    store.saveSession(makeSession('long', { state: 'busy' }));
    store.saveSession(makeSession('short', { state: 'idle' }));
    store.saveSession(makeSession('ended', { state: 'terminated', endedAt: minuteIso(3) }));
    store.batch(() => {
      store.appendEvent('long', event(1, null, 'initializing'));
      for (let seq = 2; seq <= 1_500; seq++) store.appendEvent('long', event(seq, seq % 2 === 0 ? 'idle' : 'busy', seq % 2 === 0 ? 'busy' : 'idle'));
    });
    store.appendEvent('short', event(1, null, 'initializing'));
    store.appendEvent('short', event(2, 'initializing', 'idle'));
    store.appendEvent('ended', event(1, null, 'initializing'));
    assert.deepEqual(store.lastEvent('long'), event(1_500, 'idle', 'busy'));
    assert.equal(store.lastEvent('nope'), undefined);
    const live = store.lastEventsOfLiveSessions();
    assert.deepEqual([...live.keys()].sort(), ['long', 'short']);
    assert.deepEqual(live.get('long'), event(1_500, 'idle', 'busy'));
    assert.deepEqual(live.get('short'), event(2, 'initializing', 'idle'));
  });

  test('commands are recorded, finished and listed', () => {
    store.saveSession(makeSession('s'));
    assert.equal(store.addCommand(command('s', 1)), true);
    assert.equal(store.addCommand(command('s', 2)), true);
    assert.equal(
      store.finishCommand('s', 1, { endedAt: minuteIso(2), exitCode: 3, outputEnd: 250, timedOut: false, durationMs: 60_000 }),
      true,
    );
    assert.equal(
      store.finishCommand('s', 2, { endedAt: minuteIso(3), exitCode: null, cwd: '/home', outputEnd: null, timedOut: true, durationMs: 5 }),
      true,
    );
    assert.deepEqual(store.listCommands('s', { limit: 10 }), [
      { ...command('s', 1), endedAt: minuteIso(2), exitCode: 3, outputEnd: 250, durationMs: 60_000 },
      { ...command('s', 2), endedAt: minuteIso(3), cwd: '/home', timedOut: true, durationMs: 5 },
    ]);
    assert.deepEqual(store.listCommands('s', { afterSeq: 1, limit: 10 }).map((c) => c.seq), [2]);
  });

  test('retention deletes only sessions terminated before the date, with their events and commands', () => {
    store.saveSession(makeSession('old', { state: 'terminated', endedAt: minuteIso(10) }));
    store.saveSession(makeSession('recent', { state: 'terminated', endedAt: minuteIso(30) }));
    store.saveSession(makeSession('live', { state: 'busy' }));
    for (const id of ['old', 'recent', 'live']) {
      store.appendEvent(id, event(1, null, 'initializing'));
      store.addCommand(command(id, 1));
    }
    assert.deepEqual(store.listSessionIdsEndedBefore(minuteIso(20), 100), ['old']);
    assert.equal(store.deleteSessionsEndedBefore(minuteIso(20)), 1);
    assert.equal(store.getSession('old'), undefined);
    assert.deepEqual(store.listEvents('old', { limit: 10 }), []);
    assert.deepEqual(store.listCommands('old', { limit: 10 }), []);
    assert.ok(store.getSession('recent'));
    assert.equal(store.listEvents('live', { limit: 10 }).length, 1);

    const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
    try {
      const orphans = db
        .prepare("SELECT (SELECT count(*) FROM state_events WHERE session_id = 'old') + (SELECT count(*) FROM commands WHERE session_id = 'old') AS n")
        .get() as { n: number };
      assert.equal(orphans.n, 0);
    } finally {
      db.close();
    }
  });

  test('templates and macros keep createdAt on replace and update updatedAt', () => {
    let now = new Date(minuteIso(1));
    store.close();
    store = Store.open(dir, { now: () => now });
    const first = store.putTemplate('t', { profile: 'claude', cols: 120 });
    assert.deepEqual(first, { name: 't', body: { profile: 'claude', cols: 120 }, createdAt: minuteIso(1), updatedAt: minuteIso(1) });
    now = new Date(minuteIso(2));
    store.putTemplate('t', { profile: 'shell' });
    assert.deepEqual(store.getTemplate('t'), { name: 't', body: { profile: 'shell' }, createdAt: minuteIso(1), updatedAt: minuteIso(2) });
    store.putTemplate('a', [1, 2]);
    assert.deepEqual(store.listTemplates().map((t) => t.name), ['a', 't']);
    assert.equal(store.deleteTemplate('t'), true);
    assert.equal(store.getTemplate('t'), undefined);

    store.putMacro('m', { steps: [{ send: 'ls\n' }] });
    assert.deepEqual(store.getMacro('m')?.body, { steps: [{ send: 'ls\n' }] });
    assert.deepEqual(store.listMacros().map((m) => m.name), ['m']);
    assert.equal(store.listTemplates().some((t) => t.name === 'm'), false);
    assert.equal(store.deleteMacro('m'), true);
  });

  test('webhooks and their deliveries round-trip; deliveries are capped and go with the webhook', () => {
    const hook = { id: 'w1', url: 'http://127.0.0.1:9/h', events: ['session.exited'], secret: 'sss', createdAt: minuteIso(0) };
    store.putWebhook(hook);
    assert.deepEqual(store.listWebhooks(), [hook]);
    assert.deepEqual(store.getWebhook('w1'), hook);
    for (let i = 1; i <= MAX_DELIVERIES_PER_WEBHOOK + 5; i++) {
      assert.equal(store.recordDelivery({ webhookId: 'w1', eventId: `e${i}`, attempt: 1, status: i % 2 ? 200 : null, error: i % 2 ? null : 'ECONNREFUSED', at: minuteIso(0) }), true);
    }
    const all = store.listDeliveries('w1', MAX_DELIVERIES_PER_WEBHOOK + 100);
    assert.equal(all.length, MAX_DELIVERIES_PER_WEBHOOK);
    assert.equal(all[0]?.eventId, `e${MAX_DELIVERIES_PER_WEBHOOK + 5}`);
    assert.deepEqual(store.listDeliveries('w1', 1), [
      { webhookId: 'w1', eventId: `e${MAX_DELIVERIES_PER_WEBHOOK + 5}`, attempt: 1, status: 200, error: null, at: minuteIso(0) },
    ]);
    assert.equal(store.deleteWebhook('w1'), true);
    assert.deepEqual(store.listDeliveries('w1', 10), []);
    assert.deepEqual(store.listWebhooks(), []);
  });

  test('reopening the file after close keeps every record (daemon restart)', () => {
    store.saveSession(makeSession('s', { state: 'busy' }));
    store.appendEvent('s', event(1, null, 'initializing'));
    store.addCommand(command('s', 1));
    store.putTemplate('t', { x: 1 });
    store.putMacro('m', { y: 2 });
    store.putWebhook({ id: 'w', url: 'http://x', events: [], secret: 's', createdAt: minuteIso(0) });
    store.close();

    store = Store.open(dir);
    assert.deepEqual(store.getSession('s'), makeSession('s', { state: 'busy' }));
    assert.deepEqual(store.listLiveSessions().map((s) => s.info.id), ['s']);
    assert.equal(store.listEvents('s', { limit: 10 }).length, 1);
    assert.equal(store.listCommands('s', { limit: 10 }).length, 1);
    assert.deepEqual(store.getTemplate('t')?.body, { x: 1 });
    assert.deepEqual(store.getMacro('m')?.body, { y: 2 });
    assert.equal(store.listWebhooks().length, 1);
  });

  test('two Store instances on the same file interleave writes and each sees the other', () => {
    const other = Store.open(dir);
    try {
      for (let i = 0; i < 200; i++) {
        const writer = i % 2 === 0 ? store : other;
        writer.saveSession(makeSession(`s${i}`, { createdAt: minuteIso(i) }));
        writer.appendEvent(`s${i}`, event(1, null, 'initializing'));
      }
      for (const reader of [store, other]) {
        assert.equal(reader.listSessions({ limit: 1000 }).sessions.length, 200);
        assert.equal(reader.listEvents('s199', { limit: 10 }).length, 1);
      }
    } finally {
      other.close();
    }
  });

  test('a second process writing the same file at the same time corrupts nothing', async () => {
    const count = 300;
    const script = `
      import { Store } from ${JSON.stringify(STORE_MODULE)};
      const store = Store.open(${JSON.stringify(dir)});
      for (let i = 0; i < ${count}; i++) {
        store.putTemplate('child' + i, { i });
        store.recordDelivery({ webhookId: 'w', eventId: 'c' + i, attempt: 1, status: 200, error: null, at: new Date().toISOString() });
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      store.close();
    `;
    store.putWebhook({ id: 'w', url: 'http://x', events: [], secret: 's', createdAt: minuteIso(0) });
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < count; i++) {
      store.putMacro('parent' + i, { i });
      store.recordDelivery({ webhookId: 'w', eventId: 'p' + i, attempt: 1, status: 500, error: null, at: minuteIso(0) });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(store.listTemplates().length, count);
    assert.equal(store.listMacros().length, count);
    assert.equal(store.listDeliveries('w', 1000).length, 2 * count);
    const db = new Database(path.join(dir, DB_FILE_NAME), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  });
});
