// Tree termination against real misbehaving process trees: setsid and double-forked grandchildren, signal ignorers.
// The test process is the child subreaper (as the daemon is), so every orphan comes back to it and is reaped here.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrphanReaper } from '../../../src/engine/process/OrphanReaper.js';
import { identify, isAlive, type ProcessIdentity } from '../../../src/engine/process/ProcessIdentity.js';
import { countOwnTree, findSessionProcesses, SESSION_MARKER_KEY } from '../../../src/engine/process/processTree.js';
import { readProcStat } from '../../../src/engine/process/procfs.js';
import { signalProcess } from '../../../src/engine/process/signals.js';
import { sweepOrphans, terminateProcessTree, type TerminateTreeOptions } from '../../../src/engine/process/treeKiller.js';
import { fixture } from '../../helpers/fixtures.js';

/** Graces that are meant to run out (the fixture ignores the signal): short, to keep the suite fast. */
const GRACE_MS = 300;
/** Graces that are meant to succeed: generous so a loaded machine cannot make them escalate (they end early anyway). */
const HEALTHY_GRACE_MS = 3000;
/** Upper bound for everything started to be gone and reaped after a test. */
const SETTLE_TIMEOUT_MS = 5000;
const SETTLE_POLL_MS = 20;

const reaper = new OrphanReaper({ intervalMs: 60_000 });
let baseline = { processes: 0, zombies: 0 };
/** Everything a test started, killed by identity in afterEach whatever the test did. */
const started: Array<{ child: ChildProcess; ids: ProcessIdentity[] }> = [];
let sessionCounter = 0;

interface Started {
  child: ChildProcess;
  root: ProcessIdentity;
  marker: { key: string; value: string };
}

/** Spawns a fixture as a session would run: own session and group, marker in its environment. */
function startSession(command: string, args: string[] = []): Started {
  sessionCounter += 1;
  const marker = { key: SESSION_MARKER_KEY, value: `test-${process.pid}-${sessionCounter}` };
  const child = spawn(command, args, {
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, [marker.key]: marker.value },
  });
  const pid = child.pid;
  assert.ok(pid !== undefined, `spawn ${command} failed`);
  reaper.registerDirectChild(pid);
  const root = identify(pid);
  assert.ok(root !== undefined, 'the child exists right after spawn');
  started.push({ child, ids: [root] });
  return { child, root, marker };
}

/**
 * Ends a started session's tree the way the engine does (its group, then the marker sweep), with the short test
 * grace periods; `overrides` changes any option. Without a marker the sweep has only the tree to go by.
 */
function terminate(session: { root: ProcessIdentity; marker?: Started['marker'] }, overrides: Partial<TerminateTreeOptions> = {}) {
  return terminateProcessTree({
    root: session.root,
    pgid: session.root.pid,
    ...(session.marker !== undefined ? { marker: session.marker } : {}),
    politeGraceMs: GRACE_MS,
    interruptGraceMs: GRACE_MS,
    termGraceMs: GRACE_MS,
    ...overrides,
  });
}

function track(child: ChildProcess, id: ProcessIdentity): void {
  started.find((entry) => entry.child === child)?.ids.push(id);
}

async function firstLine(child: ChildProcess): Promise<string> {
  const stdout = child.stdout;
  assert.ok(stdout !== null);
  let text = '';
  for await (const chunk of stdout) {
    text += String(chunk);
    const end = text.indexOf('\n');
    if (end >= 0) return text.slice(0, end);
  }
  throw new Error(`stdout closed before a full line: ${JSON.stringify(text)}`);
}

/** Reads the grandchild pid a fixture prints and tracks its identity for cleanup. */
async function grandchild(child: ChildProcess): Promise<ProcessIdentity> {
  const id = identify(Number(await firstLine(child)));
  assert.ok(id !== undefined, 'the grandchild is running');
  track(child, id);
  return id;
}

/** SIGHUP, SIGINT and SIGTERM (signals 1, 2, 15: bits 0, 1, 14 of /proc/<pid>/status SigIgn) ignored, in its own session. */
async function trapsInstalled(pid: number): Promise<void> {
  const wanted = (1n << 0n) | (1n << 1n) | (1n << 14n);
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ignored = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
    if ((ignored & wanted) === wanted && identify(pid) !== undefined && readProcStat(pid)?.sid === pid) return;
    assert.ok(performance.now() < deadline, `process ${pid} never installed its traps`);
    await sleep(SETTLE_POLL_MS);
  }
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** Reaps until our tree is back to what it was before the test (or the bound passes). */
async function settle(): Promise<{ processes: number; zombies: number }> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  let now = countOwnTree();
  while ((now.processes !== baseline.processes || now.zombies !== 0) && performance.now() < deadline) {
    await sleep(SETTLE_POLL_MS);
    reaper.reapNow();
    now = countOwnTree();
  }
  return now;
}

before(() => {
  assert.deepEqual(reaper.start(), { subreaper: true });
  baseline = countOwnTree();
});

afterEach(async () => {
  for (const { child, ids } of started.splice(0)) {
    for (const id of ids) signalProcess(id, 'SIGKILL');
    await exited(child);
    reaper.forgetDirectChild(child.pid ?? -1);
  }
  assert.deepEqual(await settle(), { processes: baseline.processes, zombies: 0 }, 'nothing started is left, alive or zombie');
});

after(() => reaper.dispose());

test('kill reaps a grandchild that called setsid', async () => {
  const { child, root, marker } = startSession(fixture('setsid-grandchild.sh'));
  const escaped = await grandchild(child);
  const result = await terminate({ root, marker });
  assert.equal(result.remaining, 0);
  assert.equal(isAlive(escaped), false);
  assert.equal(isAlive(root), false);
  await exited(child);
  await settle();
  assert.notDeepEqual(identify(escaped.pid), escaped, 'the grandchild was reaped, not left a zombie');
});

test('kill finds a setsid grandchild without a marker, from the tree it saw before the parent died', async () => {
  const { child, root } = startSession(fixture('setsid-grandchild.sh'));
  const escaped = await grandchild(child);
  const result = await terminate({ root });
  assert.equal(result.remaining, 0);
  assert.equal(isAlive(escaped), false);
});

test('kill reaches a double-forked grandchild', async () => {
  const { child, root, marker } = startSession(fixture('double-fork.sh'));
  const orphan = await grandchild(child);
  assert.equal(countOwnTree().processes > baseline.processes, true);
  const result = await terminate({ root, marker });
  assert.equal(result.remaining, 0);
  assert.equal(isAlive(orphan), false);
  assert.equal(isAlive(root), false);
});

test('a process ignoring SIGINT/SIGTERM/SIGHUP ends with SIGKILL and forced=true', async () => {
  const { child, root, marker } = startSession(fixture('ignore-signals.sh'));
  assert.equal(await firstLine(child), 'ready');
  const result = await terminate({ root, marker });
  assert.equal(result.forced, true);
  assert.equal(result.lastSignal, 'SIGKILL');
  assert.equal(result.remaining, 0);
  await exited(child);
  assert.equal(child.signalCode, 'SIGKILL');
});

test('the SIGKILL sweep ends a setsid grandchild that ignores every catchable signal', async () => {
  const script = `setsid ${fixture('ignore-signals.sh')} </dev/null >/dev/null & echo $!; wait`;
  const { child, root, marker } = startSession('sh', ['-c', script]);
  const escaped = await grandchild(child);
  // Its pid is printed before it runs: wait until it has left the group and ignores the signals, or an early
  // SIGINT to the group kills it before the sweep has anything to do.
  await trapsInstalled(escaped.pid);
  const result = await terminate({ root, marker });
  assert.equal(result.forced, true);
  assert.equal(result.lastSignal, 'SIGKILL');
  assert.ok(result.sweptProcesses >= 1, `swept ${result.sweptProcesses}`);
  assert.equal(result.remaining, 0);
  assert.equal(isAlive(escaped), false);
});

test('a polite exit that works ends with forced=false and no signal past it', async () => {
  const { child, root, marker } = startSession('sh', ['-c', 'read line; exit 0']);
  const result = await terminate({ root, marker }, { politeExit: () => child.stdin?.end('exit\n'), politeGraceMs: HEALTHY_GRACE_MS });
  assert.deepEqual(result, { forced: false, lastSignal: null, sweptProcesses: 0, remaining: 0 });
  await exited(child);
  assert.equal(child.exitCode, 0);
});

test('aborting the termination skips the remaining graces and goes straight to SIGKILL', async () => {
  const { child, root, marker } = startSession(fixture('ignore-signals.sh'));
  assert.equal(await firstLine(child), 'ready');
  const started = performance.now();
  const result = await terminate(
    { root, marker },
    { politeGraceMs: 30_000, interruptGraceMs: 30_000, termGraceMs: 30_000, signal: AbortSignal.timeout(100) },
  );
  assert.equal(result.remaining, 0);
  assert.equal(result.lastSignal, 'SIGKILL');
  assert.ok(performance.now() - started < 5000, 'did not sit out a 30 s grace');
});

test('sweepOrphans hangs up what a main process left behind when it exited on its own', async () => {
  const { child, root, marker } = startSession(fixture('double-fork.sh'), ['exit']);
  const orphan = await grandchild(child);
  await exited(child);
  assert.equal(isAlive(orphan), true);
  const result = await sweepOrphans({ root, pgid: root.pid, marker, hangupGraceMs: HEALTHY_GRACE_MS, termGraceMs: GRACE_MS });
  assert.deepEqual(result, { forced: false, lastSignal: 'SIGHUP', sweptProcesses: 0, remaining: 0 });
  assert.equal(isAlive(orphan), false);
});

test('sweepOrphans does nothing when the session left nothing behind', async () => {
  const { child, root, marker } = startSession(fixture('exit-immediately.sh'));
  await exited(child);
  const result = await sweepOrphans({ root, pgid: root.pid, marker, hangupGraceMs: GRACE_MS, termGraceMs: GRACE_MS });
  assert.deepEqual(result, { forced: false, lastSignal: null, sweptProcesses: 0, remaining: 0 });
});

test('both scopes find the same double-forked orphan by its marker: our own tree and all of /proc', async () => {
  const { child, root, marker } = startSession(fixture('double-fork.sh'), ['exit']);
  const orphan = await grandchild(child);
  await exited(child);
  const pidsIn = (scope: 'descendants' | 'system'): number[] =>
    findSessionProcesses({ root, marker, scope }).map((stat) => stat.pid);
  assert.deepEqual(pidsIn('descendants'), [orphan.pid]);
  assert.deepEqual(pidsIn('system'), [orphan.pid]);
});

test('a process named in notOurs is never attributed to the session, whatever its environment says', async () => {
  const { child, root, marker } = startSession(fixture('double-fork.sh'), ['exit']);
  const orphan = await grandchild(child);
  await exited(child);
  for (const scope of ['descendants', 'system'] as const) {
    const found = findSessionProcesses({ root, marker, scope, notOurs: new Set([orphan.pid]) });
    assert.deepEqual(found, [], scope);
  }
});
