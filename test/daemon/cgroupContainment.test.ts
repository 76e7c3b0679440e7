// Issue 16, kernel-enforced containment, end to end through a real daemon on this machine's real cgroups (the
// escapee matrix per backend and kind is cgroupEscapees.test.ts): cgroup v2's path, the sweep opt-out, a cgroup
// found again after a daemon restart, and a fork bomb under limits.processes=100 stays at 100 (as root, where RLIMIT_NPROC does not apply) and ends whole; the
// session info says which containment it has; no session cgroup is left behind, and a stopping daemon removes its
// shared `corral` directories unless a session left running under its holder is still inside. The machine here has cgroup v1
// hierarchies (what `auto` picks) and an empty cgroup2 at /sys/fs/cgroup/unified, which `--containment cgroup-v2`
// uses (cgroup.kill works there; it has no controllers, so v2 limits are not exercised here).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { createSession, markedProcesses, stillAlive } from '../helpers/coreSupport.js';
import { autoContainment, containmentWorks, deleteSession, pollUntil, privateDaemonCgroup, WAIT_MS, sessionCgroupDirs, sessionPidsDir, startEscapees } from '../helpers/cgroupSupport.js';
import { signalProcess } from '../../src/engine/process/signals.js';
import type { ProcessIdentity } from '../../src/engine/process/ProcessIdentity.js';

const AUTO = autoContainment();
const noCgroups = AUTO.mode === 'sweep' ? `no usable cgroup hierarchy here (${AUTO.detail})` : false;
/** The fork bomb needs the pids limit enforced by the kernel. */
const noPidsLimit = noCgroups !== false ? noCgroups : AUTO.detail.includes('pids') ? false : `the cgroups here cannot enforce pids.max (${AUTO.detail})`;

test('--containment cgroup-v2 (the empty cgroup2 here): the session says cgroup-v2 and cgroup.kill ends its escapees', { skip: containmentWorks('cgroup-v2') ? false : 'no usable cgroup v2 here' }, async () => {
  const daemon = await startDaemon({ args: ['--containment', 'cgroup-v2'] });
  try {
    const { info, escapees } = await startEscapees(daemon, 'pty');
    assert.equal(info.containment, 'cgroup-v2');
    const v2 = sessionCgroupDirs(info.id);
    assert.equal(v2.length, 1, `one cgroup2 directory, not ${JSON.stringify(v2)}`);
    await deleteSession(daemon, info.id);
    assert.deepEqual(stillAlive(escapees), []);
    assert.deepEqual(sessionCgroupDirs(info.id), []);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('--containment sweep: the session says sweep and has no cgroup (and the escapees outlive it: what cgroups fix)', async () => {
  const daemon = await startDaemon({ args: ['--containment', 'sweep', '--session-host', 'daemon'] });
  let escapees: ProcessIdentity[] = [];
  try {
    const started = await startEscapees(daemon, 'pipe');
    escapees = started.escapees;
    assert.equal(started.info.containment, 'sweep');
    assert.deepEqual(sessionCgroupDirs(started.info.id), []);
    await deleteSession(daemon, started.info.id);
    assert.equal(stillAlive(escapees).length, 2, 'without a cgroup the sweep cannot find marker-less escapees');
  } finally {
    for (const escapee of escapees) signalProcess(escapee, 'SIGKILL');
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a session cgroup is found again after a daemon restart: DELETE on the new daemon ends the escapees', { skip: noCgroups }, async () => {
  const first = await startDaemon();
  let second: DaemonHandle | undefined;
  try {
    const { info, escapees } = await startEscapees(first, 'pty');
    assert.equal(await first.stop('keep-sessions'), 0, first.stderr());
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const got = await second.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.state === 'terminated', false, 'the session was reattached');
    assert.equal(got.body.containment, AUTO.mode, 'the reattached session has its cgroup again');
    await deleteSession(second, info.id);
    assert.deepEqual(stillAlive(escapees), []);
    assert.deepEqual(sessionCgroupDirs(info.id), []);
  } finally {
    // Whichever daemon runs last ends the sessions (a failure before the restart leaves the first one running them).
    await (second ?? first).stop();
    second?.cleanup();
    first.cleanup();
  }
});

test('a fork bomb under limits.processes=100, as root, stays at 100 and ends whole: zero survivors, no cgroup left', { skip: noPidsLimit }, async () => {
  assert.equal(process.getuid?.(), 0, 'this test proves the limit holds for root (RLIMIT_NPROC would not)');
  const daemon = await startDaemon();
  try {
    // The classic bomb: every process starts two more, forever; at the limit forks fail and it keeps trying.
    const limits = { processes: 100, memoryBytes: 256 * 1024 * 1024, cpuWeight: 50 };
    const info = await createSession(daemon, { kind: 'pipe', command: ['/bin/sh', '-c', 'b() { b | b & }; b; exec sleep 1000'], limits });
    assert.equal(info.containment, AUTO.mode);
    assertTreeLimits(info.id, limits);
    const pidsDir = sessionPidsDir(info.id);
    assert.ok(pidsDir !== undefined, 'the session has a pids cgroup');
    assert.equal(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim(), '100');
    // The kernel's high-water mark where it keeps one (pids.peak): bomb processes come and go faster than a poll
    // of pids.current sees (dash exits when a fork fails), so sampling may never catch the count at the limit.
    const counter = existsSync(join(pidsDir, 'pids.peak')) ? 'pids.peak' : 'pids.current';
    const current = (): number => Number(readFileSync(join(pidsDir, counter), 'utf8'));
    let peak = 0;
    await pollUntil('the bomb fills its cgroup', () => {
      peak = Math.max(peak, current());
      return peak >= 100;
    });
    // The kernel's own count of failed forks proves the bomb pushed against the limit.
    await pollUntil('forks were refused', () => /max (\d+)/.exec(readFileSync(join(pidsDir, 'pids.events'), 'utf8'))?.[1] !== '0');
    for (let i = 0; i < 20; i += 1) {
      peak = Math.max(peak, current());
      await sleep(20);
    }
    assert.equal(peak, 100, 'the tree never exceeded pids.max');
    // Usage is read from the cgroup (the whole tree), on the sampler's next round.
    let usage: SessionInfo['usage'] = null;
    const deadline = performance.now() + WAIT_MS;
    while (usage?.source !== 'cgroup') {
      assert.ok(performance.now() < deadline, `usage never came from the cgroup: ${JSON.stringify(usage)}`);
      await sleep(250);
      usage = (await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`)).body.usage;
    }
    // Bomb processes exit as fast as they fork (the holder reaps them): any count up to the limit is right.
    assert.ok(usage.processCount >= 1 && usage.processCount <= 100, `cgroup process count ${usage.processCount}`);
    // How the escalation got there (SIGTERM or the cgroup kill) depends on where the bomb was; that all of it is
    // gone is what counts.
    const ended = await deleteSession(daemon, info.id);
    assert.equal(ended.state, 'terminated');
    assert.deepEqual(markedProcesses(info.id), [], 'a bomb process survived');
    assert.deepEqual(sessionCgroupDirs(info.id), [], 'the bomb’s cgroup was left behind');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

/** The tree-wide limits the kernel holds for the session, read back from its cgroup files (v1 or v2 names). */
function assertTreeLimits(sessionId: string, limits: { processes: number; memoryBytes: number; cpuWeight: number }): void {
  const dirs = sessionCgroupDirs(sessionId);
  const read = (file: string): string | undefined => {
    for (const dir of dirs) {
      try {
        return readFileSync(join(dir, file), 'utf8').trim();
      } catch (error) {
        // ENOENT: this hierarchy does not have that file; the next may.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return undefined;
  };
  assert.equal(read('pids.max'), String(limits.processes));
  if (AUTO.detail.includes('memory')) assert.equal(read('memory.max') ?? read('memory.limit_in_bytes'), String(limits.memoryBytes));
  if (AUTO.detail.includes('cpu')) assert.equal(read('cpu.weight') ?? read('cpu.shares'), AUTO.mode === 'cgroup-v2' ? String(limits.cpuWeight) : String(Math.round((limits.cpuWeight * 1024) / 100)));
}

test('after kill -9 of a daemon that owns its sessions, the next start kills the marker-less escapees through the cgroup and removes it', { skip: noCgroups }, async () => {
  const first = await startDaemon({ args: ['--session-host', 'daemon'] });
  let second: DaemonHandle | undefined;
  try {
    const { info, escapees } = await startEscapees(first, 'pipe');
    await first.crash();
    assert.equal(stillAlive(escapees).length, 2, 'the crash itself killed the escapees: the test proves nothing');
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const got = await second.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`);
    assert.equal(got.body.exit?.reason, 'lost');
    assert.deepEqual(stillAlive(escapees), [], 'an escapee outlived the recovery of its lost session');
    assert.deepEqual(sessionCgroupDirs(info.id), []);
  } finally {
    await second?.stop();
    await first.stop();
    first.cleanup();
  }
});

test('a daemon stopping with no session inside removes its shared corral cgroups; one leaving a session under its holder keeps them', { skip: noCgroups }, async () => {
  // In a cgroup of the test's own: the daemons other tests and checkouts run beside us share ours.
  const cgroup = privateDaemonCgroup('corral-release-test');
  const first = await startDaemon({ prefix: cgroup.prefix });
  let second: DaemonHandle | undefined;
  try {
    const info = await createSession(first, { kind: 'pipe', command: ['sleep', '1000'] });
    assert.equal(info.containment, AUTO.mode);
    const dirs = cgroup.sessionsDirs();
    assert.notEqual(dirs.length, 0, 'the daemon made no corral directory in its own cgroup');
    assert.equal(await first.stop('keep-sessions'), 0, first.stderr());
    // The session runs on under its holder, in its cgroup inside corral/: the kernel would refuse, and nothing tries.
    assert.deepEqual(cgroup.sessionsDirs(), dirs, 'a corral directory holding a running session was removed');
    second = await startDaemon({ dataDir: first.dataDir, base: first.base, prefix: cgroup.prefix });
    await deleteSession(second, info.id);
    assert.equal(await second.stop(), 0, second.stderr());
    assert.deepEqual(cgroup.sessionsDirs(), [], 'the corral directories of a daemon that stopped with no session inside are still there');
    assert.match(second.stderr(), /shared session cgroups/);
  } finally {
    await (second ?? first).stop();
    second?.cleanup();
    first.cleanup();
    await cgroup.remove();
  }
});
