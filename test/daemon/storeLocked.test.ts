// Issue 15, the locked store and the phantom create, against a real daemon: another connection holds the store's
// write lock with BEGIN EXCLUSIVE. `/healthz` and every request still answer at once, a create is refused with
// 503 STORE_BUSY and Retry-After and leaves nothing behind (no process, no count, no row), the sessions keep
// running with their records waiting in memory until the lock goes, and SIGTERM finishes within the shutdown
// deadline even with the store still locked.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { shutdownDeadlineMs } from '../../src/engine/SessionManager.js';
import { defaultEngineConfig } from '../../src/engine/EngineConfig.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { DB_FILE_NAME } from '../../src/store/Store.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { createSession, eventually, listIds, markedProcesses, sessionTree, stillAlive, strayProcesses, waitForText } from '../helpers/coreSupport.js';

/**
 * Far below the bug's stall (SQLite's 5 s busy timeout: /healthz answered in 4,983 ms) and far above an answer from
 * memory, which a loaded 2-core CI machine once stretched past 500 ms (506 ms in a loop of 10 runs).
 */
const FAST_ANSWER_MS = 2_000;
/** Long enough for the periodic info save (every 2 s) to meet the lock and for its retry to run. */
const SAVE_ATTEMPT_MS = 3_500;

interface Health {
  ok: boolean;
  status: 'ok' | 'degraded';
  details: { storage: { ok: boolean; problem: { code: string } | null; queued: number }; tasks: { name: string; ok: boolean; totalFailures: number }[] };
}

async function timedGet<T>(daemon: DaemonHandle, path: string): Promise<{ status: number; body: T; ms: number }> {
  const started = performance.now();
  const reply = await daemon.request<T>('GET', path);
  return { ...reply, ms: performance.now() - started };
}


const TICKER = ['/bin/sh', '-c', 'echo started; while :; do echo tick; sleep 0.2; done'];

test('under an external BEGIN EXCLUSIVE the daemon answers fast, refuses a create with 503 STORE_BUSY leaving no phantom, and catches up after', async () => {
  const daemon = await startDaemon();
  const locker = new Database(join(daemon.dataDir, DB_FILE_NAME));
  try {
    const running = await createSession(daemon, { command: TICKER, name: 'running' });
    await waitForText(daemon, running.id, 'started');
    locker.exec('BEGIN EXCLUSIVE');

    for (let i = 0; i < 5; i++) {
      const health = await timedGet<Health>(daemon, '/healthz');
      assert.equal(health.status, 200);
      assert.ok(health.ms < FAST_ANSWER_MS, `/healthz took ${health.ms.toFixed(0)} ms under the lock`);
    }

    const started = performance.now();
    const refused = await fetch(`${daemon.url}/api/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: TICKER, name: 'phantom' }),
    });
    const createMs = performance.now() - started;
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(refused.status, 503, JSON.stringify(body));
    assert.equal(body.error.code, 'STORE_BUSY');
    assert.match(body.error.message, /No session was created/);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.ok(createMs < FAST_ANSWER_MS, `the refused create took ${createMs.toFixed(0)} ms`);

    // No phantom: the count, the list and the processes agree that only the first session exists.
    const stats = await daemon.request<{ live: number; totals: { created: number } }>('GET', '/api/v1/stats');
    assert.equal(stats.body.live, 1, JSON.stringify(stats.body));
    assert.equal(stats.body.totals.created, 1);
    assert.deepEqual(await listIds(daemon), [running.id]);
    // Nor its holder and program: the refusal came before the session took them, and they still end.
    await eventually(async () => assert.deepEqual(strayProcesses(daemon.pid, [running.id]), []));

    // The running session keeps running; its records wait in memory, and /healthz says why.
    await sleep(SAVE_ATTEMPT_MS);
    const degraded = await timedGet<Health>(daemon, '/healthz');
    assert.ok(degraded.ms < FAST_ANSWER_MS, `/healthz took ${degraded.ms.toFixed(0)} ms`);
    assert.equal(degraded.body.status, 'degraded', JSON.stringify(degraded.body));
    assert.equal(degraded.body.details.storage.problem?.code, 'STORE_BUSY');
    const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${running.id}`);
    assert.equal(info.body.state === 'terminated', false);
    assert.equal(info.body.storage?.saved, false, JSON.stringify(info.body.storage));
    assert.equal(info.body.storage?.problem?.code, 'STORE_BUSY');

    locker.exec('ROLLBACK');
    await eventually(async () => {
      const health = await daemon.request<Health>('GET', '/healthz');
      assert.equal(health.body.status, 'ok', JSON.stringify(health.body));
      // Nothing of this went uncaught (corral serve counts those in /healthz).
      assert.deepEqual(
        health.body.details.tasks.filter((task) => task.name === 'uncaught errors').map((task) => task.totalFailures),
        [0],
      );
      const caughtUp = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${running.id}`);
      assert.equal(caughtUp.body.storage?.saved, true);
    });
    // And creating works again.
    const after = await createSession(daemon, { command: ['/bin/sh', '-c', 'echo after; sleep 30'], name: 'after' });
    await waitForText(daemon, after.id, 'after');
    assert.equal((await daemon.request<{ live: number }>('GET', '/api/v1/stats')).body.live, 2);
  } finally {
    if (locker.inTransaction) locker.exec('ROLLBACK');
    locker.close();
    await daemon.stop();
    daemon.cleanup();
  }
});

test('SIGTERM with the store still locked finishes within the shutdown deadline and ends every session tree', async () => {
  const daemon = await startDaemon();
  const locker = new Database(join(daemon.dataDir, DB_FILE_NAME));
  try {
    const running = await createSession(daemon, { command: TICKER, name: 'running' });
    await waitForText(daemon, running.id, 'started');
    const tree = sessionTree(running);
    locker.exec('BEGIN EXCLUSIVE');
    // A refused create first: the state that once made SIGTERM hang forever.
    const refused = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions', { command: TICKER });
    assert.equal(refused.status, 503);
    await eventually(async () => assert.deepEqual(strayProcesses(daemon.pid, [running.id]), []));

    const deadline = shutdownDeadlineMs(defaultEngineConfig('/unused', []).graces);
    const started = performance.now();
    const code = await Promise.race([daemon.stop(), sleep(deadline + 10_000, 'hung' as const)]);
    const tookMs = performance.now() - started;
    assert.equal(code, 0, `shutdown ${String(code)} after ${tookMs.toFixed(0)} ms: ${daemon.stderr().slice(-2000)}`);
    assert.ok(tookMs < deadline + 5_000, `shutdown took ${tookMs.toFixed(0)} ms (deadline ${deadline} ms)`);
    assert.deepEqual(stillAlive(tree), [], 'the session tree survived the shutdown');
    assert.deepEqual(markedProcesses(running.id), []);
  } finally {
    if (locker.inTransaction) locker.exec('ROLLBACK');
    locker.close();
    await daemon.stop();
    daemon.cleanup();
  }
});
