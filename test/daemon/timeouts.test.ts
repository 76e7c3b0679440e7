// Proves the per-session timeouts of PRODUCT §1.6: max lifetime ends a session as `timeout`, no output and no
// input for the idle period ends it as `idle_timeout`, and input alone keeps a silent session alive.
// Must never leave a session running: every engine is closed, which terminates what is still live.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEngine } from '../helpers/engineHarness.js';
import { isAlive } from '../../src/engine/process/ProcessIdentity.js';

/** Short limits keep the tests fast; the schema's minimum is 100 ms. */
const LIFETIME_MS = 400;
const IDLE_MS = 600;
/** Input is sent this often while idleness is checked: a third of the idle period, so one late write cannot matter. */
const INPUT_EVERY_MS = IDLE_MS / 3;
/** How long input keeps coming: several idle periods. */
const INPUT_FOR_MS = IDLE_MS * 4;

test('maxLifetimeMs ends a running session with exit.reason "timeout" and kills its process', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pipe', command: ['/bin/sleep', '1000'], limits: { maxLifetimeMs: LIFETIME_MS } });
    const root = session.identity;
    assert.ok(root !== null);
    const exit = await session.whenTerminated();
    assert.equal(exit.reason, 'timeout');
    assert.equal(isAlive(root), false);
    const stored = engine.store.getSession(session.id);
    assert.equal(stored?.info.exit?.reason, 'timeout');
  } finally {
    await engine.close();
  }
});

test('idleTimeoutMs ends a silent session with exit.reason "idle_timeout"', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pty', command: ['/bin/sleep', '1000'], limits: { idleTimeoutMs: IDLE_MS } });
    const exit = await session.whenTerminated();
    assert.equal(exit.reason, 'idle_timeout');
  } finally {
    await engine.close();
  }
});

test('input resets idleness: a session that prints nothing but gets input stays alive past its idle timeout', async () => {
  const engine = await startEngine();
  try {
    // A pipe session swallowing its input: no output at all, so only input can count as activity.
    const { session } = await engine.manager.create({
      kind: 'pipe',
      command: ['/bin/sh', '-c', 'cat >/dev/null'],
      limits: { idleTimeoutMs: IDLE_MS },
    });
    const until = performance.now() + INPUT_FOR_MS;
    while (performance.now() < until) {
      session.sendInput('tick\n', undefined);
      await sleep(INPUT_EVERY_MS);
    }
    assert.equal(session.isLive, true, `the session ended (${session.state}) although input kept coming`);
    assert.equal(session.output.endOffset, 0, 'the program printed something: the test would not isolate input');
    const exit = await session.whenTerminated();
    assert.equal(exit.reason, 'idle_timeout');
  } finally {
    await engine.close();
  }
});
