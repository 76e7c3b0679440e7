// Ended sessions can be removed: DELETE ?purge=true removes one (record, history, output on disk; a live one is
// ended first), POST /sessions/prune removes every ended session older than a duration; a plain DELETE keeps its
// contract (it ends the session and answers it, and an ended one stays readable).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startInProcessDaemon, type InProcessDaemonHandle } from '../../helpers/inProcessDaemon.js';
import { sessionDir } from '../../../src/engine/sessionFiles.js';

interface Info {
  id: string;
  state: string;
}

async function endedSession(daemon: InProcessDaemonHandle, word: string): Promise<string> {
  const created = await daemon.request<Info>('POST', '/api/v1/sessions', { command: ['/bin/echo', word], cwd: daemon.root });
  assert.equal(created.status, 201);
  const waited = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: 60_000 });
  assert.equal(waited.body.matched, true);
  return created.body.id;
}

test('DELETE ?purge=true removes an ended session and its output; a live one is ended first; plain DELETE is unchanged', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const ended = await endedSession(daemon, 'one');
    const plain = await daemon.request<Info>('DELETE', `/api/v1/sessions/${ended}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.body.state, 'terminated');
    assert.equal((await daemon.request('GET', `/api/v1/sessions/${ended}`)).status, 200, 'a plain DELETE keeps the record');
    assert.ok(existsSync(sessionDir(daemon.dataDir, ended)), 'the journal is on disk before the purge');

    const purged = await daemon.request<Info>('DELETE', `/api/v1/sessions/${ended}?purge=true`);
    assert.equal(purged.status, 200);
    assert.equal(purged.body.id, ended);
    const gone = await daemon.request<{ error: { code: string } }>('GET', `/api/v1/sessions/${ended}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'SESSION_NOT_FOUND');
    assert.equal(existsSync(sessionDir(daemon.dataDir, ended)), false, 'its journal is removed');
    const list = await daemon.request<{ sessions: Info[] }>('GET', '/api/v1/sessions');
    assert.equal(list.body.sessions.some((s) => s.id === ended), false);

    const live = await daemon.request<Info>('POST', '/api/v1/sessions', { command: ['sleep', '60'], cwd: daemon.root });
    const liveGone = await daemon.request<Info>('DELETE', `/api/v1/sessions/${live.body.id}?purge=true`);
    assert.equal(liveGone.body.state, 'terminated', 'a live session is ended, then removed');
    assert.equal((await daemon.request('GET', `/api/v1/sessions/${live.body.id}`)).status, 404);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('prune removes ended sessions older than the duration and never a live one', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const old = [await endedSession(daemon, 'a'), await endedSession(daemon, 'b')];
    const live = await daemon.request<Info>('POST', '/api/v1/sessions', { command: ['sleep', '60'], cwd: daemon.root });
    const none = await daemon.request<{ removed: number }>('POST', '/api/v1/sessions/prune', { olderThanMs: 24 * 3600 * 1000 });
    assert.deepEqual(none.body, { removed: 0 }, 'nothing ended a day ago');
    const bad = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions/prune', { olderThanMs: -1 });
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    const all = await daemon.request<{ removed: number }>('POST', '/api/v1/sessions/prune', { olderThanMs: 0 });
    assert.deepEqual(all.body, { removed: 2 });
    for (const id of old) {
      assert.equal((await daemon.request('GET', `/api/v1/sessions/${id}`)).status, 404);
      assert.equal(existsSync(sessionDir(daemon.dataDir, id)), false);
    }
    const still = await daemon.request<Info>('GET', `/api/v1/sessions/${live.body.id}`);
    assert.notEqual(still.body.state, 'terminated');
    await daemon.request('DELETE', `/api/v1/sessions/${live.body.id}?force=true`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
