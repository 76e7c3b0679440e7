// Issue 15: no timer can take the daemon down, and a failing one is visible. A face's periodic task that throws
// EMFILE on every run leaves the daemon answering, and `/healthz` (details to the owner only) and the metrics say
// which task fails and why;
// the daemon lifts its descriptor soft limit to the hard one at start.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeriodicTask } from '../../src/common/PeriodicTask.js';
import type { DaemonFace, FaceContext } from '../../src/server/face.js';
import type { HealthReply } from '../../src/server/routes/systemRoutes.js';
import { startDaemon } from '../helpers/daemonHarness.js';
import { startInProcess } from '../helpers/wsTestClient.js';

/** A face whose one periodic task fails every run, as a /proc scan does while descriptors are exhausted. */
class FailingTaskFace implements DaemonFace {
  runs = 0;
  task: PeriodicTask | null = null;

  attach(context: FaceContext): void {
    this.task = new PeriodicTask({ name: 'always failing', intervalMs: 10, maxBackoffMs: 20, log: () => undefined }, () => {
      this.runs++;
      throw Object.assign(new Error("EMFILE: too many open files, scandir '/proc'"), { code: 'EMFILE' });
    }).start();
    context.tasks.add(this.task);
  }
}

test('a periodic task failing with EMFILE never takes the daemon down, and /healthz and the metrics name it', async () => {
  const face = new FailingTaskFace();
  const d = await startInProcess([face]);
  try {
    while (face.runs < 5) await sleep(10);
    const health = await d.request<HealthReply>('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.ok, true);
    assert.equal(health.body.degraded, true);
    const details = health.body.details;
    assert.ok(details !== undefined, 'the owner gets the details');
    const failing = details.tasks.find((t) => t.name === 'always failing');
    assert.equal(failing?.ok, false);
    assert.equal(failing?.lastError?.code, 'EMFILE');
    assert.ok((failing?.consecutiveFailures ?? 0) >= 5);
    // The engine's own tasks are listed and healthy.
    const reaper = details.tasks.find((t) => t.name === 'orphan reaping');
    assert.equal(reaper?.ok, true);
    assert.ok(details.tasks.some((t) => t.name === 'websocket heartbeat' || t.name === 'usage sampling'));
    // A stranger learns that something is wrong, not what (errors name paths).
    const stranger = (await fetch(`${d.url}/healthz`).then((r) => r.json())) as HealthReply;
    assert.deepEqual(stranger, { ok: true, degraded: true, status: 'degraded' });
    const metrics = await fetch(`${d.url}/metrics`, { headers: d.auth }).then((r) => r.text());
    assert.match(metrics, /corral_background_task_up\{task="always failing"\} 0/);
    assert.match(metrics, /corral_background_task_failures_total\{task="always failing"\} [1-9]/);
    assert.match(metrics, /corral_background_task_up\{task="orphan reaping"\} 1/);
  } finally {
    face.task?.dispose();
    await d.stop();
  }
});

test('the daemon raises its descriptor soft limit to the hard limit at start', async () => {
  const daemon = await startDaemon({ prefix: ['prlimit', '--nofile=200:4096', '--'] });
  try {
    const details = (await daemon.request<HealthReply>('GET', '/healthz')).body.details;
    assert.ok(details !== undefined);
    assert.equal(details.openFilesLimit, 4096);
    assert.match(readFileSync(`/proc/${daemon.pid}/limits`, 'utf8'), /Max open files\s+4096\s+4096/);
    // The connection caps follow the raised limit, not the one it started with.
    assert.ok(details.connections.maxConnections > 200);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
