// Issue 15, the full disk, against a real daemon whose data dir is on a 6 MiB tmpfs: once the disk is full the
// daemon keeps running and so do its sessions, their output stays readable from memory, the API says STORAGE_FULL
// (507 for a create, `/healthz` details, each session's `storage` with its journal gaps), and a restart on the
// still-full disk comes up read-only with a clear message instead of exiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { createSession, eventually, strayProcesses, waitForText } from '../helpers/coreSupport.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

const DISK_MIB = 6;
/** The periodic info save (every 2 s) meets the full disk, and the ticker outgrows its last journal page. */
const FULL_DISK_MS = 4_000;

/** Ample for the ticker's next 50 lines on a loaded machine (it prints them in about a second when idle). */
const PROGRESS_MS = 30_000;

/** The store retry backs off to 10 s and the journal retries every 5 s: both catch up well within this. */
const RECOVERY_MS = 20_000;


interface Health {
  status: 'ok' | 'degraded';
  details: { storage: { readOnly: boolean; problem: { code: string; message: string } | null; queued: number } };
}

/** A refused create's program: one that would still run if the refusal left it behind. */
const SLEEPER = ['/bin/sh', '-c', 'exec sleep 60'];
/** A refused create's holder and program end within milliseconds (SIGKILL); generous for a shared machine. */
const LEFTOVER_MS = 10_000;

/** ~120 bytes a line, 50 lines a second: a journal page fills in well under a second. */
const TICKER = ['/bin/sh', '-c', `i=0; while :; do i=$((i+1)); echo "line $i ${'x'.repeat(100)}"; sleep 0.02; done`];

function lastLineNumber(text: string): number {
  const numbers = [...text.matchAll(/line (\d+)/g)].map((match) => Number(match[1]));
  return numbers.at(-1) ?? -1;
}

async function tail(daemon: DaemonHandle, info: SessionInfo): Promise<string> {
  const now = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`);
  const since = Math.max(0, now.body.output.totalBytes - 4000);
  const out = await daemon.request<OutputRead>('GET', `/api/v1/sessions/${info.id}/output?format=text&since=${since}`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.data;
}

test(`a full ${DISK_MIB} MiB disk neither crashes the daemon nor stops its sessions, and a restart on it comes up read-only`, async (t) => {
  const disk = mountSmallDisk(DISK_MIB);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  let daemon: DaemonHandle | null = null;
  try {
    daemon = await startDaemon({ base: disk.dir });
    const ticker = await createSession(daemon, { command: TICKER, name: 'ticker' });
    await waitForText(daemon, ticker.id, 'line 5 ');
    const filled = disk.fill();
    assert.ok(disk.freeBytes() === 0, `the disk still has ${disk.freeBytes()} bytes free after filling ${filled}`);
    const lineAtFull = lastLineNumber(await tail(daemon, ticker));

    await sleep(FULL_DISK_MS);
    assert.equal(daemon.child.exitCode, null, `the daemon died on the full disk: ${daemon.stderr().slice(-3000)}`);
    const health = await daemon.request<Health>('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'degraded', JSON.stringify(health.body));
    assert.equal(health.body.details.storage.problem?.code, 'STORAGE_FULL');

    // The session runs on, its newest output is readable (from memory), and its info says what is not on disk.
    const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${ticker.id}`);
    assert.equal(info.body.state === 'terminated', false, JSON.stringify(info.body));
    // Waited for, not timed: a loaded CI machine forks the ticker's `sleep` far slower than 50 a second.
    const printing = daemon;
    await eventually(async () => {
      const last = lastLineNumber(await tail(printing, ticker));
      assert.ok(last > lineAtFull + 50, `the session stopped printing, or its output is not readable (line ${last}, ${lineAtFull} at full)`);
    }, PROGRESS_MS);
    // The journal's gap opens once the ticker outgrew its last page: waited for, as the 50 lines above.
    await eventually(async () => {
      const now = await printing.request<SessionInfo>('GET', `/api/v1/sessions/${ticker.id}`);
      assert.equal(now.body.storage?.saved, false, JSON.stringify(now.body.storage));
      assert.equal(now.body.storage?.problem?.code, 'STORAGE_FULL');
      const gap = now.body.storage?.journalGaps.find((g) => g.stream === 'combined');
      assert.ok(gap !== undefined && gap.code === 'ENOSPC' && gap.end === null, JSON.stringify(now.body.storage?.journalGaps));
    }, PROGRESS_MS);

    // Nothing new can be recorded: a create is 507 and leaves nothing behind (no count, no holder, no program).
    const refused = await daemon.request<{ error: { code: string; message: string } }>('POST', '/api/v1/sessions', { command: SLEEPER });
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'STORAGE_FULL');
    assert.equal((await daemon.request<{ live: number }>('GET', '/api/v1/stats')).body.live, 1);
    const full = daemon;
    await eventually(async () => assert.deepEqual(strayProcesses(full.pid, [ticker.id]), []), LEFTOVER_MS);

    // Space again: the queued records are stored, the journal resumes and its gap closes, creating works.
    disk.unfill();
    const running = daemon;
    await eventually(async () => {
      const healthy = await running.request<Health>('GET', '/healthz');
      assert.equal(healthy.body.status, 'ok', JSON.stringify(healthy.body));
      const caughtUp = await running.request<SessionInfo>('GET', `/api/v1/sessions/${ticker.id}`);
      assert.equal(caughtUp.body.storage?.saved, true, JSON.stringify(caughtUp.body.storage));
      const closed = caughtUp.body.storage?.journalGaps.find((g) => g.stream === 'combined');
      assert.ok(closed !== undefined && closed.end !== null && closed.end > closed.start, JSON.stringify(caughtUp.body.storage));
    }, RECOVERY_MS);
    const afterSpace = await createSession(daemon, { command: ['/bin/sh', '-c', 'echo room-again'] });
    await waitForText(daemon, afterSpace.id, 'room-again');

    // Full again, a crash, and a restart on the still-full disk: it comes up read-only, says so, and serves what
    // was recorded.
    disk.fill();
    await daemon.crash();
    const crashed = daemon;
    daemon = await startDaemon({ base: disk.dir, dataDir: crashed.dataDir });
    assert.match(daemon.stderr(), /started read-only/);
    const restarted = await daemon.request<Health>('GET', '/healthz');
    assert.equal(restarted.body.details.storage.readOnly, true, JSON.stringify(restarted.body));
    assert.equal(restarted.body.details.storage.problem?.code, 'STORAGE_FULL');
    const recorded = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${ticker.id}`);
    assert.equal(recorded.status, 200);
    const archived = await daemon.request<OutputRead>('GET', `/api/v1/sessions/${ticker.id}/output?format=text&since=0`);
    assert.equal(archived.status, 200);
    assert.match(archived.body.data, /line 1 /);
    const readOnlyCreate = await daemon.request<{ error: { code: string; message: string } }>('POST', '/api/v1/sessions', { command: SLEEPER });
    assert.equal(readOnlyCreate.status, 507);
    assert.match(readOnlyCreate.body.error.message, /read-only/);
    const readOnly = daemon;
    await eventually(async () => assert.deepEqual(strayProcesses(readOnly.pid, [ticker.id]), []), LEFTOVER_MS);
    assert.equal(await daemon.stop(), 0, daemon.stderr().slice(-3000));
  } finally {
    if (daemon !== null) await daemon.stop();
    disk.unmount();
  }
});
