import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitInfo } from '../../src/protocol/sessionTypes.js';
import { SessionEnding } from '../../src/engine/SessionEnding.js';
import { startEngine } from '../helpers/engineHarness.js';

test('an ending runs its termination once, and an ended session answers its exit without running anything', async () => {
  const ending = new SessionEnding();
  let runs = 0;
  let finish: (exit: ExitInfo) => void = () => undefined;
  const run = (): Promise<ExitInfo> => {
    runs++;
    return new Promise((resolve) => {
      finish = resolve;
    });
  };
  const first = ending.terminate('killed', run);
  const second = ending.terminate('timeout', run);
  assert.equal(first, second, 'a second request joins the first termination');
  assert.equal(runs, 1);
  assert.equal(ending.terminating, true);
  assert.equal(ending.endedAt, null);

  const announced: ExitInfo[] = [];
  ending.markForced(true);
  ending.conclude({ code: null, signal: 'SIGKILL' }, null, (exit) => announced.push(exit));
  ending.conclude({ code: 0, signal: null }, null, (exit) => announced.push(exit));
  assert.equal(announced.length, 1, 'the final moment happens once');
  const exit = ending.exit;
  assert.ok(exit !== null);
  assert.deepEqual({ ...exit, at: 'x' }, { code: null, signal: 'SIGKILL', reason: 'killed', forced: true, at: 'x' }, 'the first reason asked for wins');
  assert.equal(ending.endedAt, exit.at);
  assert.equal(await ending.whenEnded(), exit);
  finish(exit);
  assert.equal(await ending.terminate('killed', run), exit);
  assert.equal(runs, 1, 'an ended session runs no termination');
});

test('a program that ends on its own ends as exited; a failed spawn as spawn_failed', () => {
  const exited = new SessionEnding();
  exited.conclude({ code: 3, signal: null }, null, () => undefined);
  assert.equal(exited.exit?.reason, 'exited');
  assert.equal(exited.exit?.forced, false);
  assert.equal(exited.terminating, false);

  const failed = new SessionEnding();
  failed.spawnFailed();
  failed.conclude({ code: null, signal: null }, null, () => undefined);
  assert.equal(failed.exit?.reason, 'spawn_failed');
});

test('a session has the driver of its profile: plain for commands, shell for the shell, switched on by kind', async () => {
  const engine = await startEngine();
  try {
    const { session: command } = await engine.manager.create({ command: ['/bin/sleep', '30'] });
    assert.equal(command.driver.kind, 'plain');
    const { session: shell } = await engine.manager.create({ profile: 'shell', command: ['/bin/bash', '--norc'], cwd: engine.root });
    assert.equal(shell.driver.kind, 'shell');
    await engine.manager.terminate(command.id);
    await engine.manager.terminate(shell.id);
  } finally {
    await engine.close();
  }
});
