// The cgroup layer on its own, on this machine's real cgroups: the program joins its cgroup before it execs
// (corral-cgroup-enter), a kill ends a tree that forks as fast as it can, the limits land in the cgroup files,
// removal leaves nothing, and what is refused is refused cleanly. Tests skip, saying why, where there are no cgroups.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../../../../src/protocol/errors.js';
import { CGROUP_ENTER_PATH, Containment } from '../../../../src/engine/process/cgroups/Containment.js';
import { processCgroups } from '../../../../src/engine/process/cgroups/cgroupFs.js';
import { autoContainment, sessionCgroupDirs } from '../../../helpers/cgroupSupport.js';

const AUTO = autoContainment();
const skip = AUTO.mode === 'sweep' ? `no usable cgroup hierarchy here (${AUTO.detail})` : false;
const WAIT_MS = 30_000;

function testId(name: string): string {
  return `t_${name}_${process.pid}_${Date.now().toString(36)}`;
}

test('a forking tree started through the wrapper is in its cgroup from its first instruction and ends whole with kill()', { skip }, async () => {
  const id = testId('fork');
  const cgroup = AUTO.create(id, { processes: 50 });
  assert.ok(cgroup !== null);
  try {
    // Prints the cgroup of the process as it starts (before any fork), then forks sleepers as fast as it can.
    const argv = AUTO.wrap(['/bin/sh', '-c', 'cat /proc/self/cgroup; while :; do sleep 100 & done 2>/dev/null'], cgroup);
    const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let first = '';
    child.stdout.on('data', (chunk: Buffer) => (first += chunk.toString()));
    const deadline = performance.now() + WAIT_MS;
    while (!first.includes(id) || cgroup.pids().length < 10) {
      assert.ok(performance.now() < deadline, `the tree never filled its cgroup: ${first}`);
      await sleep(20);
    }
    assert.ok(first.split('\n').some((line) => line.endsWith(`/corral/${id}`)), `cat ran outside the session cgroup: ${first}`);
    const result = await cgroup.kill();
    assert.ok(result.killed >= 10);
    assert.equal(result.remaining, 0);
    assert.deepEqual(cgroup.pids(), []);
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    // Killed, or gone on its own first: dash exits when a fork fails, which pids.max makes happen at 50.
    assert.ok(child.signalCode === 'SIGKILL' || child.exitCode !== null, `the wrapped shell still runs: ${String(child.exitCode)}`);
  } finally {
    await cgroup.kill();
    assert.equal(await cgroup.remove(), true);
  }
  assert.deepEqual(sessionCgroupDirs(id), [], 'removal left a directory');
});

test('the wrapper refuses to run the program when it cannot join the cgroup: exit 125 and the reason on stderr', () => {
  const marker = `${process.pid}-should-not-run`;
  const run = spawnSync(CGROUP_ENTER_PATH, ['/nonexistent/cgroup.procs', '--', '/bin/echo', marker], { encoding: 'utf8' });
  assert.equal(run.status, 125);
  assert.match(run.stderr, /cannot place the session in its cgroup \(\/nonexistent\/cgroup.procs: No such file or directory\); not starting it/);
  assert.equal(run.stdout.includes(marker), false, 'the program ran outside its cgroup');
});

test('a session id that could leave the sessions directory is refused with SPAWN_FAILED and creates nothing', { skip }, () => {
  for (const bad of ['../escape', 'a/b', '', 'x'.repeat(65)]) {
    assert.throws(() => AUTO.create(bad, {}), (error: unknown) => error instanceof CorralError && error.code === 'SPAWN_FAILED');
  }
  assert.equal(AUTO.find('../escape'), null);
});

test('sweep mode makes no cgroup and leaves the argv alone; find() of an unknown session is null', () => {
  const sweep = Containment.sweepOnly();
  assert.equal(sweep.mode, 'sweep');
  assert.equal(sweep.create('s_x', { processes: 10 }), null);
  assert.deepEqual(sweep.wrap(['/bin/true'], null), ['/bin/true']);
  if (AUTO.mode !== 'sweep') assert.equal(AUTO.find(testId('unknown')), null);
});

test('find() returns the cgroup of a session made earlier (a restarted daemon) and its members', { skip }, async () => {
  const id = testId('find');
  const made = AUTO.create(id, {});
  assert.ok(made !== null);
  const child = spawn(AUTO.wrap(['sleep', '100'], made)[0] ?? '', AUTO.wrap(['sleep', '100'], made).slice(1), { stdio: 'ignore' });
  try {
    const deadline = performance.now() + WAIT_MS;
    while (made.pids().length === 0) {
      assert.ok(performance.now() < deadline, 'the sleeper never joined');
      await sleep(20);
    }
    const found = AUTO.find(id);
    assert.ok(found !== null);
    assert.deepEqual(found.pids(), [child.pid]);
    assert.ok([...processCgroups(child.pid ?? 0).values()].some((path) => path.endsWith(`/corral/${id}`)));
    await found.kill();
  } finally {
    await made.kill();
    assert.equal(await made.remove(), true);
  }
  assert.equal(existsSync(sessionCgroupDirs(id)[0] ?? '/nonexistent'), false);
});

test('cgroup v2 with real files (the cgroup2 here has no pids/memory/cpu controllers: they are bound to v1): the tree joins, its CPU time comes from cpu.stat, and limits without a controller are reported as not enforced', { skip: v2Skip() }, async () => {
  const v2 = Containment.detect('cgroup-v2');
  try {
    const id = testId('v2');
    const cgroup = v2.create(id, { processes: 20, memoryBytes: 64 * 1024 * 1024, cpuWeight: 50 });
    assert.ok(cgroup !== null);
    try {
      assert.equal(cgroup.mode, 'cgroup-v2');
      // Only what the kernel holds counts as enforced: none of these controllers is on this cgroup2.
      const delegated = v2.detail;
      const expected = {
        ...(delegated.includes('pids') ? { processes: 20 } : {}),
        ...(delegated.includes('memory') ? { memoryBytes: 64 * 1024 * 1024 } : {}),
        ...(delegated.includes('cpu') ? { cpuWeight: 50 } : {}),
      };
      assert.deepEqual({ ...cgroup.enforced }, expected);
      // A child burns CPU and forks a grandchild that burns more; both are reaped before the read: cpu.stat
      // (core v2, no controller needed) still counts them, as the rusage of a live process could not.
      const burn = 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done';
      const argv = v2.wrap(['/bin/sh', '-c', `(${burn}) & ${burn}; wait`], cgroup);
      const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: 'ignore' });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 0);
      const usage = cgroup.usage();
      assert.equal(usage.processCount, 0);
      assert.ok(usage.cpuMs !== null && usage.cpuMs > 0, `no CPU time from cpu.stat: ${JSON.stringify(usage)}`);
    } finally {
      await cgroup.kill();
      assert.equal(await cgroup.remove(), true);
    }
  } finally {
    v2.release();
  }
});

function v2Skip(): string | false {
  try {
    Containment.detect('cgroup-v2').release();
    return false;
  } catch (error) {
    return `no usable cgroup v2 here: ${(error as Error).message}`;
  }
}
