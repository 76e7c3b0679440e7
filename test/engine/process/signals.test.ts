// Signals by identity: a stale identity (recycled pid) must never receive anything; process groups only when anchored.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, test } from 'node:test';
import { identify, isAlive, type ProcessIdentity } from '../../../src/engine/process/ProcessIdentity.js';
import { readProcStat } from '../../../src/engine/process/procfs.js';
import { signalGroup, signalProcess } from '../../../src/engine/process/signals.js';

const started: ChildProcess[] = [];

function startSleep(detached = false): { child: ChildProcess; id: ProcessIdentity } {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore', detached });
  started.push(child);
  const id = child.pid === undefined ? undefined : identify(child.pid);
  assert.ok(id !== undefined, 'sleep is running');
  return { child, id };
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

afterEach(async () => {
  for (const child of started.splice(0)) {
    // kill() on a ChildProcess targets only its own still-unreaped pid, so it cannot hit a recycled one.
    child.kill('SIGKILL');
    await exited(child);
  }
});

test("signalProcess with a stale identity (right pid, wrong start time) sends nothing and answers 'gone'", async () => {
  const { child, id } = startSleep();
  const stale = { pid: id.pid, startTime: id.startTime - 1 };
  assert.equal(signalProcess(stale, 'SIGKILL'), 'gone');
  assert.equal(isAlive(id), true, 'the process holding the pid now was not touched');
  assert.equal(child.signalCode, null);
});

test('signalProcess delivers to the very process it names', async () => {
  const { child, id } = startSleep();
  assert.equal(signalProcess(id, 'SIGTERM'), 'sent');
  await exited(child);
  assert.equal(child.signalCode, 'SIGTERM');
  assert.equal(signalProcess(id, 'SIGTERM'), 'gone', 'a reaped process answers gone');
});

test('signalGroup sends nothing when no known member is alive in the group', async () => {
  const { child, id } = startSleep(true);
  const elsewhere = { pid: id.pid, startTime: id.startTime + 1 };
  assert.equal(signalGroup(id.pid, 'SIGKILL', [elsewhere]), 'gone');
  assert.equal(isAlive(id), true);
  assert.equal(signalGroup(id.pid, 'SIGKILL', [id]), 'sent');
  await exited(child);
  assert.equal(child.signalCode, 'SIGKILL');
});

test("signalGroup refuses to signal the caller's own process group", () => {
  // A non-detached child shares our group: anchoring on it must still not let the group signal through.
  const { id } = startSleep(false);
  const own = readProcStat(process.pid);
  assert.ok(own !== undefined);
  assert.throws(() => signalGroup(own.pgid, 'SIGTERM', [id]), RangeError);
  assert.equal(isAlive(id), true);
});
