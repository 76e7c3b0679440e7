// A failing background task must never take the process down: every run is caught, each kind of failure is logged
// once per failing streak, runs back off while failing, and health says what is wrong until the task recovers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeriodicTask, type TaskLogger } from '../../src/common/PeriodicTask.js';

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

function collectingLog(): { lines: LogLine[]; log: TaskLogger } {
  const lines: LogLine[] = [];
  return { lines, log: (level, message, fields) => lines.push({ level, message, fields }) };
}

describe('PeriodicTask', () => {
  it('catches a real EMFILE from its run, logs it once, backs off, and reports it in health until it recovers', async () => {
    const { lines, log } = collectingLog();
    let runs = 0;
    let failing = true;
    const task = new PeriodicTask({ name: 'scan', intervalMs: 10, maxBackoffMs: 40, log }, () => {
      runs++;
      if (!failing) return;
      // A real errno error, as a /proc scan gets when descriptors run out.
      const error = Object.assign(new Error('EMFILE: too many open files, scandir /proc'), { code: 'EMFILE' });
      throw error;
    }).start();
    await sleep(300);
    const health = task.health();
    assert.equal(health.ok, false);
    assert.equal(health.lastError?.code, 'EMFILE');
    assert.ok(health.consecutiveFailures >= 2, `failed ${health.consecutiveFailures} times`);
    // Backoff: at 10 ms without backoff there would be ~30 runs; doubling up to 40 ms gives far fewer.
    assert.ok(runs < 15, `ran ${runs} times in 300 ms while failing`);
    assert.equal(lines.filter((line) => line.level === 'warn').length, 1, 'one log line for one kind of failure');
    failing = false;
    await sleep(150);
    assert.equal(task.health().ok, true);
    assert.equal(task.health().lastError, null);
    assert.ok(lines.some((line) => line.level === 'info' && line.message === 'scan recovered'));
    task.dispose();
  });

  it('survives a rejected promise and a non-Error throw, and runNow says whether the run succeeded', async () => {
    const { log } = collectingLog();
    let mode: 'reject' | 'string' | 'ok' = 'reject';
    const task = new PeriodicTask({ name: 'save', intervalMs: 1000, log }, async () => {
      if (mode === 'reject') throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      if (mode === 'string') throw 'weird';
    });
    assert.equal(await task.runNow(), false);
    assert.equal(task.health().lastError?.code, 'SQLITE_FULL');
    mode = 'string';
    assert.equal(await task.runNow(), false);
    assert.equal(task.health().lastError?.code, 'UNKNOWN');
    assert.equal(task.health().totalFailures, 2);
    mode = 'ok';
    assert.equal(await task.runNow(), true);
    assert.equal(task.health().consecutiveFailures, 0);
    assert.equal(task.health().totalFailures, 2);
    task.dispose();
  });

  it('does not keep the process alive and stops after dispose', async () => {
    let runs = 0;
    const task = new PeriodicTask({ name: 'tick', intervalMs: 5, log: () => undefined }, () => {
      runs++;
    }).start();
    await sleep(50);
    task.dispose();
    const after = runs;
    assert.ok(after > 0);
    await sleep(50);
    assert.equal(runs, after);
  });
});
