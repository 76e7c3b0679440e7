// A create whose record the store refuses leaves nothing behind (issue 15's phantom): the store here refuses the
// start's commit after the process was spawned (a full disk fails at COMMIT, when the WAL grows), so the engine
// must kill that process, drop the count, fire no event, keep no row and no output directory, and still shut down.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultEngineConfig } from '../../src/engine/EngineConfig.js';
import { SessionManager, type EngineLogger } from '../../src/engine/SessionManager.js';
import { sessionDir } from '../../src/engine/sessionFiles.js';
import { CorralError, isCorralError } from '../../src/protocol/errors.js';
import type { EngineEvent } from '../../src/protocol/events.js';
import { Store } from '../../src/store/Store.js';
import { markedProcesses } from '../helpers/coreSupport.js';

test('a create whose commit the store refuses after the spawn leaves no process, count, row, event or directory', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-create-refused-')));
  const dataDir = join(base, 'data');
  const root = join(base, 'work');
  mkdirSync(root, { recursive: true });
  const store = Store.open(dataDir);
  let refuseCommits = true;
  // The real store, except that a batch (the start's one commit) is rolled back and refused like a full disk.
  const refusing = Object.create(store) as Store;
  refusing.batch = <T>(fn: () => T): T =>
    store.batch(() => {
      const result = fn();
      if (refuseCommits) throw new CorralError('STORAGE_FULL', 'The disk is full (test).');
      return result;
    });
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  const log: EngineLogger = (_level, message, fields) => logs.push({ message, fields });
  const manager = new SessionManager({ ...defaultEngineConfig(dataDir, [root]), graces: { politeMs: 300, interruptMs: 300, termMs: 300 } }, refusing, log);
  await manager.start();
  const events: EngineEvent[] = [];
  const subscription = manager.onEvent((event) => events.push(event));
  try {
    // The program prints into its journal at once, so a directory would exist if the discard forgot it.
    await assert.rejects(
      () => manager.create({ command: ['/bin/sh', '-c', 'echo spawned; exec sleep 60'], cwd: root }),
      (error: unknown) => isCorralError(error) && error.code === 'STORAGE_FULL' && /No session was created/.test(error.message),
    );
    const refusedId = logs.find((entry) => entry.message.startsWith('session not created'))?.fields?.session;
    assert.equal(typeof refusedId, 'string', JSON.stringify(logs));
    const id = String(refusedId);

    assert.equal(manager.stats().live, 0);
    assert.deepEqual(manager.stats().totals, { created: 0, exited: 0, spawnFailed: 0 });
    assert.equal(manager.find(id), undefined);
    assert.equal(store.getSession(id), undefined);
    assert.equal(events.length, 0, `a refused create announced events: ${JSON.stringify(events)}`);
    // The spawned process is killed (SIGKILL at once) and its directory removed.
    for (let waited = 0; markedProcesses(id).length > 0 || existsSync(sessionDir(dataDir, id)); waited += 100) {
      assert.ok(waited < 5_000, `leftovers of the refused create: ${JSON.stringify(markedProcesses(id))}, dir ${existsSync(sessionDir(dataDir, id))}`);
      await sleep(100);
    }

    refuseCommits = false;
    const { session } = await manager.create({ command: ['/bin/sh', '-c', 'exec sleep 60'], cwd: root });
    assert.equal(manager.stats().live, 1);
    assert.equal(store.getSession(session.id)?.info.id, session.id);
    assert.equal(events[0]?.type, 'session.created');
  } finally {
    subscription.dispose();
    await manager.shutdown();
    store.close();
    rmSync(base, { recursive: true, force: true });
  }
});
