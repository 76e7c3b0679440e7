// Proves PRODUCT §1.6 "every child is reaped; zero zombies after any number of sessions" and that session churn
// leaks no file descriptors: 2,000 sessions, 50 at a time, in one in-process engine.
// Must never compare against a moving baseline: fds are counted after a warm-up that fills every bounded cache.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEngine, type EngineHarness } from '../helpers/engineHarness.js';
import { countOwnTree } from '../../src/engine/process/processTree.js';
import { fixture } from '../helpers/coreSupport.js';

/** Issue 2: zero zombies and no fd growth after 2,000 sessions, 50 at a time. */
const SESSIONS = Number(process.env.CHURN_SESSIONS ?? 2000);
const CONCURRENCY = 50;
/** Ended sessions kept in memory: small, so the warm-up below fills this cache and later churn cannot grow it. */
const ENDED_IN_MEMORY = 10;
/** Warm-up sessions: more than ENDED_IN_MEMORY, so the baseline already holds a full cache of ended sessions. */
const WARM_UP = 60;
/** Every Nth session leaves orphans behind (they are re-parented to us, the subreaper, and must be reaped). */
const ORPHAN_EVERY = 40;
/**
 * Allowed fd difference: libuv, SQLite's WAL and the node test runner open a few descriptors lazily. A leak of even
 * one fd per 100 sessions would show as 20; growth proportional to sessions is what this guards against.
 */
const FD_SLACK = 8;

/** The reaper reaps an orphan on its second scan after it became a zombie: a few of its periods at most. */
const REAP_WAIT_MS = 10_000;
const POLL_MS = 50;

/** Our descendants once the reaper had its chance (answers once only `baseline` live ones are left, else after REAP_WAIT_MS). */
async function settledTree(baseline: number): Promise<{ processes: number; zombies: number }> {
  const deadline = performance.now() + REAP_WAIT_MS;
  let tree = countOwnTree();
  while ((tree.processes > baseline || tree.zombies > 0) && performance.now() < deadline) {
    await sleep(POLL_MS);
    tree = countOwnTree();
  }
  return tree;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function runSessions(engine: EngineHarness, count: number, startAt: number): Promise<string[]> {
  const problems: string[] = [];
  let next = startAt;
  const end = startAt + count;
  const worker = async (): Promise<void> => {
    for (let n = next++; n < end; n = next++) {
      const orphans = n % ORPHAN_EVERY === 0;
      const { session } = await engine.manager.create({
        kind: n % 2 === 0 ? 'pty' : 'pipe',
        command: orphans ? ['/bin/sh', fixture('spawn-zombie-orphans.sh'), '3'] : ['/bin/true'],
      });
      const exit = await session.whenTerminated();
      if (exit.code !== 0 || exit.reason !== 'exited') problems.push(`session ${n}: ${JSON.stringify(exit)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return problems;
}

test('2,000 sessions, 50 at a time, leave zero zombies, no live children and no fd growth', async () => {
  const engine = await startEngine({ endedInMemory: ENDED_IN_MEMORY });
  try {
    // The baseline: tsx's esbuild service is a child of ours, and stays.
    const treeBefore = await settledTree(0);
    assert.deepEqual(await runSessions(engine, WARM_UP, 0), []);
    const fdsBefore = openFds();
    const problems = await runSessions(engine, SESSIONS, WARM_UP);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} sessions ended unexpectedly`);
    const tree = await settledTree(treeBefore.processes);
    assert.deepEqual(tree, { processes: treeBefore.processes, zombies: 0 }, 'children or zombies left after the churn');
    const fdsAfter = openFds();
    assert.ok(
      fdsAfter - fdsBefore <= FD_SLACK,
      `open fds grew from ${fdsBefore} to ${fdsAfter} over ${SESSIONS} sessions`,
    );
    assert.equal(engine.manager.liveSessions().length, 0);
  } finally {
    await engine.close();
  }
});
