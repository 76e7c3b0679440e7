// The reaper against real orphans: the test process becomes the subreaper, as the daemon does.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { OrphanReaper } from '../../../src/engine/process/OrphanReaper.js';
import { countOwnTree } from '../../../src/engine/process/processTree.js';
import { readProcStat } from '../../../src/engine/process/procfs.js';
import { fixture } from '../../helpers/fixtures.js';

/** The reaper's own timer must stay out of the way: these tests call reapNow() themselves. */
const NEVER_MS = 60 * 60 * 1000;
/** Bound for short-lived fixture processes (they live ~0.5 s) to end. */
const WAIT_TIMEOUT_MS = 5000;
/** Bound for a fresh `node --import tsx` to start, load the reaper and exit: ~0.5 s idle, several s on a busy 2-CPU box. */
const NODE_EXIT_TIMEOUT_MS = 30_000;
const POLL_MS = 20;
const ORPHANS = 5;

const reaper = new OrphanReaper({ intervalMs: NEVER_MS });
let baseline = { processes: 0, zombies: 0 };

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

async function waitFor(what: string, done: () => boolean, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

before(() => {
  assert.deepEqual(reaper.start(), { subreaper: true });
  baseline = countOwnTree();
});

after(() => reaper.dispose());

test('the reaper leaves zero zombies after orphans exit', async () => {
  const child = spawn(fixture('spawn-zombie-orphans.sh'), [String(ORPHANS)], { stdio: 'ignore' });
  assert.ok(child.pid !== undefined);
  reaper.registerDirectChild(child.pid);
  try {
    await exited(child);
    assert.equal(child.exitCode, 0);
    // The orphans came to us (subreaper) and exited: they wait as our zombies, nobody else will reap them.
    await waitFor('the orphans to exit', () => countOwnTree().processes === baseline.processes);
    assert.equal(countOwnTree().zombies, ORPHANS);
    assert.equal(reaper.reapNow(), 0, 'a zombie is reaped only when seen on two consecutive scans');
    assert.equal(reaper.reapNow(), ORPHANS);
    assert.deepEqual(countOwnTree(), { processes: baseline.processes, zombies: 0 });
  } finally {
    reaper.forgetDirectChild(child.pid);
  }
});

test("registered direct children are never reaped by it (node's child_process still gets the right exit code)", async () => {
  const child = spawn('sh', ['-c', 'exit 7'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  reaper.registerDirectChild(pid);
  try {
    // Hold the event loop until the child is a zombie, so libuv cannot reap it before the reaper scans twice.
    const deadline = performance.now() + WAIT_TIMEOUT_MS;
    while (readProcStat(pid)?.state !== 'Z') assert.ok(performance.now() < deadline, 'child never exited');
    assert.equal(reaper.reapNow(), 0);
    assert.equal(reaper.reapNow(), 0);
    assert.equal(readProcStat(pid)?.state, 'Z', 'still waiting for its owner');
    await exited(child);
    assert.equal(child.exitCode, 7);
  } finally {
    reaper.forgetDirectChild(pid);
  }
  assert.deepEqual(countOwnTree(), { processes: baseline.processes, zombies: 0 });
});

test('the reaper timer does not keep the process alive', async () => {
  // A separate node that starts a reaper with a short interval and does nothing else must exit on its own.
  const module = fileURLToPath(new URL('../../../src/engine/process/OrphanReaper.ts', import.meta.url));
  const code = `import { OrphanReaper } from ${JSON.stringify(module)}; new OrphanReaper({ intervalMs: 10 }).start();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: 'inherit' });
  try {
    const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
    await waitFor('node with a started reaper to exit', ended, NODE_EXIT_TIMEOUT_MS);
    assert.equal(child.exitCode, 0);
  } finally {
    // Only when the wait failed: it is still our unreaped child, so its pid is still its own.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
});
