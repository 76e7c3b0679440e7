// A create whose record the store refuses leaves nothing behind (issue 15's phantom). The store refuses the start's
// one commit either at its first row, before start() took the spawned process (a locked or read-only store), or
// at its end, after start() ran (a full disk fails at COMMIT, when the WAL grows). Either way, and whether the
// program runs under a holder or as the engine's child, the engine must kill that process (and its holder), drop
// the count, fire no event, keep no row and no output directory, and still shut down.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultEngineConfig, type SessionHostName } from '../../src/engine/EngineConfig.js';
import { SessionManager, type EngineLogger } from '../../src/engine/SessionManager.js';
import { sessionDir } from '../../src/engine/sessionFiles.js';
import { CorralError, isCorralError } from '../../src/protocol/errors.js';
import type { EngineEvent } from '../../src/protocol/events.js';
import { Store } from '../../src/store/Store.js';
import { markedProcesses, strayProcesses } from '../helpers/coreSupport.js';

/** Generous: SIGKILL and a holder's exit take milliseconds, but the machine is shared. */
const LEFTOVER_DEADLINE_MS = 10_000;

type RefusalPoint = 'first row' | 'commit';

async function refusedCreateLeavesNothing(sessionHost: SessionHostName, refuseAt: RefusalPoint): Promise<void> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-create-refused-')));
  const dataDir = join(base, 'data');
  const root = join(base, 'work');
  mkdirSync(root, { recursive: true });
  const store = Store.open(dataDir);
  let refusing = true;
  // The real store, except that the start's batch is refused like a locked store (before anything in it ran) or a
  // full disk (after all of it ran, then rolled back).
  const refusingStore = Object.create(store) as Store;
  refusingStore.batch = <T>(fn: () => T): T => {
    if (refusing && refuseAt === 'first row') throw new CorralError('STORE_BUSY', 'The store is locked (test).');
    return store.batch(() => {
      const result = fn();
      if (refusing) throw new CorralError('STORAGE_FULL', 'The disk is full (test).');
      return result;
    });
  };
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  const log: EngineLogger = (_level, message, fields) => logs.push({ message, fields });
  const config = { ...defaultEngineConfig(dataDir, [root]), sessionHost, graces: { politeMs: 300, interruptMs: 300, termMs: 300 } };
  const manager = new SessionManager(config, refusingStore, log);
  await manager.start();
  const events: EngineEvent[] = [];
  const subscription = manager.onEvent((event) => events.push(event));
  try {
    // The program prints into its journal at once, so a directory would exist if the discard forgot it.
    const code = refuseAt === 'first row' ? 'STORE_BUSY' : 'STORAGE_FULL';
    await assert.rejects(
      () => manager.create({ command: ['/bin/sh', '-c', 'echo spawned; exec sleep 60'], cwd: root }),
      (error: unknown) => isCorralError(error) && error.code === code && /No session was created/.test(error.message),
    );
    const refusedId = logs.find((entry) => entry.message.startsWith('session not created'))?.fields?.session;
    assert.equal(typeof refusedId, 'string', JSON.stringify(logs));
    const id = String(refusedId);

    assert.equal(manager.stats().live, 0);
    assert.deepEqual(manager.stats().totals, { created: 0, exited: 0, spawnFailed: 0 });
    assert.equal(manager.find(id), undefined);
    assert.equal(store.getSession(id), undefined);
    assert.equal(events.length, 0, `a refused create announced events: ${JSON.stringify(events)}`);
    // The spawned process (and its holder) is killed, SIGKILL at once, and its directory removed.
    for (let waited = 0; ; waited += 100) {
      const leftovers = { marked: markedProcesses(id), strays: strayProcesses(process.pid, []), dir: existsSync(sessionDir(dataDir, id)) };
      if (leftovers.marked.length === 0 && leftovers.strays.length === 0 && !leftovers.dir) break;
      assert.ok(waited < LEFTOVER_DEADLINE_MS, `leftovers of the refused create: ${JSON.stringify(leftovers)}`);
      await sleep(100);
    }

    refusing = false;
    const { session } = await manager.create({ command: ['/bin/sh', '-c', 'exec sleep 60'], cwd: root });
    assert.equal(manager.stats().live, 1);
    assert.equal(store.getSession(session.id)?.info.id, session.id);
    assert.equal(events[0]?.type, 'session.created');
    assert.deepEqual(strayProcesses(process.pid, [session.id]), []);
  } finally {
    subscription.dispose();
    await manager.shutdown();
    store.close();
    rmSync(base, { recursive: true, force: true });
  }
}

for (const sessionHost of ['holder', 'daemon'] as const) {
  for (const refuseAt of ['first row', 'commit'] as const) {
    test(`a create the store refuses at its ${refuseAt} leaves no process, holder, count, row, event or directory (${sessionHost} host)`, () =>
      refusedCreateLeavesNothing(sessionHost, refuseAt));
  }
}
