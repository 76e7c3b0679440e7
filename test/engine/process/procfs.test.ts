// /proc parsing against real processes, including a comm crafted to break naive parsers.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { identify, isAlive } from '../../../src/engine/process/ProcessIdentity.js';
import { listPids, parseProcStat, readEnvironValue, readProcStat } from '../../../src/engine/process/procfs.js';
import { findSessionProcesses, SESSION_MARKER_KEY, treeUsage } from '../../../src/engine/process/processTree.js';

const started: ChildProcess[] = [];
const tempDirs: string[] = [];

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
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function startChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore', env });
  started.push(child);
  assert.ok(child.pid !== undefined, `spawn ${command} failed`);
  return child;
}

/** Waits (bounded) until `pid` has exec'd into `comm`: right after spawn it is still a copy of node. */
async function waitForComm(pid: number, comm: string): Promise<void> {
  // 2 s: an exec of a local binary takes milliseconds; this only absorbs a loaded machine.
  const deadline = performance.now() + 2000;
  while (readProcStat(pid)?.comm !== comm && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

test("procfs parses a comm containing ') ('", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-procfs-'));
  tempDirs.push(dir);
  // comm is the basename of what was exec'd (at most 15 bytes), so a symlink name shapes it.
  const name = 'a) (b c) d';
  symlinkSync('/bin/sleep', join(dir, name));
  const child = startChild(join(dir, name), ['1000']);
  const pid = child.pid ?? -1;
  await waitForComm(pid, name);
  const stat = readProcStat(pid);
  assert.ok(stat !== undefined);
  assert.equal(stat.comm, name);
  assert.equal(stat.pid, pid);
  assert.equal(stat.ppid, process.pid);
  // Right after exec it may still be running (R) before it sleeps (S).
  assert.match(stat.state, /^[RS]$/);
  assert.ok(stat.startTime > 0);
  // rss in /proc/<pid>/stat comes from per-CPU cached counters and can read 0 right after exec.
  assert.ok(Number.isInteger(stat.rssBytes) && stat.rssBytes >= 0);
});

test('parseProcStat splits at the last parenthesis of a synthetic line', () => {
  const line = '42 (x) (y) S 1 42 42 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 123456 1000 5 18446744073709551615\n';
  const stat = parseProcStat(line);
  assert.ok(stat !== undefined);
  assert.deepEqual(
    { pid: stat.pid, comm: stat.comm, state: stat.state, ppid: stat.ppid, pgid: stat.pgid, sid: stat.sid },
    { pid: 42, comm: 'x) (y', state: 'S', ppid: 1, pgid: 42, sid: 42 },
  );
  assert.equal(stat.startTime, 123456);
  assert.equal(stat.utimeTicks, 7);
  assert.equal(stat.stimeTicks, 3);
  assert.equal(parseProcStat('garbage'), undefined);
});

test('readProcStat and identify answer undefined for a process that is gone', async () => {
  const child = startChild('true', []);
  const pid = child.pid ?? -1;
  await exited(child);
  // libuv reaped it before 'exit' fired, so the pid has no /proc entry (barring an instant recycle).
  assert.equal(readProcStat(pid), undefined);
  assert.equal(listPids().includes(pid), false);
  assert.equal(identify(pid), undefined);
  assert.equal(readEnvironValue(pid, 'PATH'), undefined);
});

test('readEnvironValue finds the session marker and findSessionProcesses finds the process by it', async () => {
  const value = `procfs-${process.pid}`;
  const child = startChild('sleep', ['1000'], { ...process.env, [SESSION_MARKER_KEY]: value });
  const pid = child.pid ?? -1;
  await waitForComm(pid, 'sleep');
  assert.equal(readEnvironValue(pid, SESSION_MARKER_KEY), value);
  assert.equal(readEnvironValue(pid, 'CORRAL_NO_SUCH_KEY'), undefined);
  const id = identify(pid);
  assert.ok(id !== undefined && isAlive(id));
  // A root that no longer exists: only the marker can find the process.
  const found = findSessionProcesses({ root: { pid: 0x3fffffff, startTime: 1 }, marker: { key: SESSION_MARKER_KEY, value } });
  assert.deepEqual(found.map((stat) => stat.pid), [pid]);
  const usage = treeUsage(found);
  assert.equal(usage.processCount, 1);
  assert.ok(usage.rssBytes >= 0);
  assert.ok(usage.cpuMs >= 0);
});

test('findSessionProcesses never includes the calling process, even when the marker matches it', () => {
  const self = identify(process.pid);
  assert.ok(self !== undefined);
  // process.env changes do not reach /proc/self/environ, so match on a variable the runner really started with.
  const marker = { key: 'PATH', value: process.env.PATH ?? '' };
  const found = findSessionProcesses({ root: self, marker, known: [self] });
  assert.equal(found.some((stat) => stat.pid === process.pid || stat.pid === process.ppid), false);
});
