// Issue 15, the disk out of inodes (files) rather than bytes, against a real daemon whose data dir is on a tmpfs of
// 400 inodes: the store keeps writing (it makes no new file), so only what needs a new file fails — and must say so.
// A create answers 507 STORAGE_FULL (its holder's socket could not be made) and leaves nothing behind, a running
// session keeps running with its output readable while `/healthz` is degraded on its open journal gap, freeing
// inodes lets both recover, and a restart on a disk without free inodes comes up read-only with a message that says
// inodes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { createSession, eventually, strayProcesses, waitForText } from '../helpers/coreSupport.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

/** Room for the daemon's own files and one session's, then filled. */
const INODES = 400;
/** ~5 KB a second into journal segments of 16 KiB (a 64 KiB cap): a new segment file every few seconds. */
const TICKER = ['/bin/sh', '-c', `i=0; while :; do i=$((i+1)); echo "line $i ${'x'.repeat(90)}"; sleep 0.02; done`];
const ARGS = ['--journal-cap-bytes', String(64 * 1024)];
/** The journal retries every 5 s; a loaded machine gets more. */
const RECOVERY_MS = 30_000;

interface Health {
  status: 'ok' | 'degraded';
  details: { storage: { readOnly: boolean; problem: { code: string } | null }; tasks: { name: string; ok: boolean; lastError: { code: string } | null }[] };
}


function journals(health: Health): Health['details']['tasks'][number] | undefined {
  return health.details.tasks.find((task) => task.name === 'output journals');
}

test('a disk out of inodes: STORAGE_FULL for a create with nothing left behind, degraded health, recovery, and a read-only restart that says inodes', async (t) => {
  const disk = mountSmallDisk(64, { inodes: INODES });
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  let daemon: DaemonHandle | null = null;
  try {
    daemon = await startDaemon({ base: disk.dir, args: ARGS });
    const running = daemon;
    const ticker = await createSession(running, { command: TICKER });
    await waitForText(running, ticker.id, 'line 5\\b');
    assert.ok(disk.fillInodes() > 0);

    const refused = await running.request<{ error: { code: string; message: string } }>('POST', '/api/v1/sessions', { command: ['/bin/sh', '-c', 'exec sleep 60'] });
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'STORAGE_FULL');
    assert.match(refused.body.error.message, /no free inodes/);
    await eventually(async () => assert.deepEqual(strayProcesses(running.pid, [ticker.id]), []), 10_000);

    // The ticker runs on; its next journal segment needs a file, so its journal has an open gap and /healthz says so.
    await eventually(async () => {
      const health = await running.request<Health>('GET', '/healthz');
      assert.equal(health.body.status, 'degraded', JSON.stringify(health.body));
      assert.equal(journals(health.body)?.ok, false);
      assert.equal(journals(health.body)?.lastError?.code, 'ENOSPC');
    }, RECOVERY_MS);
    const live = await running.request<SessionInfo>('GET', `/api/v1/sessions/${ticker.id}`);
    assert.equal(live.body.state === 'terminated', false);
    const tail = await running.request<OutputRead>('GET', `/api/v1/sessions/${ticker.id}/output?format=text&since=${Math.max(0, live.body.output.totalBytes - 200)}`);
    assert.equal(tail.status, 200);
    assert.match(tail.body.data, /line \d+/);

    disk.unfillInodes();
    await eventually(async () => {
      const health = await running.request<Health>('GET', '/healthz');
      assert.equal(journals(health.body)?.ok, true, JSON.stringify(health.body));
    }, RECOVERY_MS);
    const after = await createSession(running, { command: ['/bin/sh', '-c', 'echo after; sleep 30'] });
    await waitForText(running, after.id, 'after');

    // Out of inodes again, a crash, and a restart: read-only, and the message says why.
    disk.fillInodes();
    await running.crash();
    daemon = await startDaemon({ base: disk.dir, dataDir: running.dataDir, args: ARGS });
    assert.match(daemon.stderr(), /free inodes/);
    const restarted = await daemon.request<Health>('GET', '/healthz');
    assert.equal(restarted.body.details.storage.readOnly, true, JSON.stringify(restarted.body));
    disk.unfillInodes();
  } finally {
    if (daemon !== null) await daemon.stop('end-sessions');
    disk.unmount();
  }
});
