// Sessions under a corral-holder (native/holder.c) through HolderBackend: real holders, real terminals and pipes,
// real Unix sockets. The daemon's death is a detach without RELEASE, or a real SIGKILL of a daemon-like child.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, test } from 'node:test';
import { HolderBackend, type HolderProcess, type HolderRecord } from '../../../src/engine/backends/HolderBackend.js';
import { encodeHello, encodeInput, zeroOffsets } from '../../../src/engine/backends/holderProtocol.js';
import type { SpawnOptions } from '../../../src/engine/backends/ProcessBackend.js';
import { readProcStat } from '../../../src/engine/process/procfs.js';
import {
  assertNothingLeft,
  becomeSubreaper,
  Collected,
  isGone,
  ownTree,
  parentOf,
  reapAdoptedOrphans,
  reapExited,
  stateOf,
  tempDataDir,
  waitUntil,
} from '../../helpers/holderHarness.js';

import { FIXTURES } from '../../helpers/fixtures.js';
let data: { dataDir: string; dispose: () => void };
/** What ran below the test process before any test (tsx's esbuild service). */
let baseline: string[] = [];

before(() => {
  becomeSubreaper();
  data = tempDataDir();
  baseline = ownTree();
});
/**
 * Every holder the current test started: whatever it left running (a failed test) is ended through its holder after
 * it, so one failure does not show up again as leftovers in every later test.
 */
const started: HolderRecord[] = [];
afterEach(async () => {
  for (const record of started) {
    if (isGone(record.holder.pid) || stateOf(record.holder.pid) === 'Z') continue;
    const proc = await new HolderBackend({ dataDir: data.dataDir }).reattach(record);
    proc.signal('tree', 'SIGKILL');
    proc.release();
  }
  for (const record of started) await reapExited(record.holder.pid);
  started.length = 0;
});
after(() => data.dispose());

async function spawnTracked(backend: HolderBackend, spawnOptions: SpawnOptions): Promise<HolderProcess> {
  const proc = await backend.spawn(spawnOptions);
  started.push(proc.record);
  return proc;
}

let sessions = 0;
function options(kind: 'pty' | 'pipe', script: string, cwd = '/'): SpawnOptions {
  sessions += 1;
  return {
    kind,
    file: '/bin/sh',
    args: ['-c', script],
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CORRAL_SESSION_ID: `s_test${sessions}` },
    cols: 80,
    rows: 24,
    sessionId: `s_test${sessions}`,
  };
}

/** Numbered lines 0..n-1 (a terminal turns \n into \r\n): every one present, in order, once. */
function assertCounted(text: string, atLeast: number): number {
  const lines = text.split('\r\n');
  const last = lines.pop();
  assert.equal(last, '', 'output ends with a whole line');
  lines.forEach((line, i) => assert.equal(line, String(i), `line ${i}`));
  assert.ok(lines.length >= atLeast, `${lines.length} lines, expected at least ${atLeast}`);
  return lines.length;
}

/** Ends a session for good: kill what is left of its tree through the holder, release it, reap the holder. */
async function finish(proc: HolderProcess, seen: Collected): Promise<void> {
  proc.signal('tree', 'SIGKILL');
  await waitUntil('the session to close', () => seen.closed !== null);
  proc.release();
  await reapExited(proc.record.holder.pid);
  assert.equal(existsSync(proc.record.socketPath), false, 'the holder removed its socket');
}

test('a pty program runs under a holder: input, resize, output and exit; after release the holder exits and removes its socket', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pty', 'read line; echo "got:$line"; stty size; exit 3'));
  const seen = new Collected().attach(proc);
  assert.equal(parentOf(proc.pid), proc.record.holder.pid, 'the program is the holder\'s child, not the daemon\'s');
  assert.notEqual(proc.record.holder.pid, process.pid);
  proc.resize(100, 30);
  proc.write('hello\r');
  await waitUntil('close', () => seen.closed !== null);
  assert.deepEqual(seen.exit, { code: 3, signal: null, treeGone: true });
  assert.deepEqual(seen.closed, { code: 3, signal: null, treeGone: true });
  assert.match(seen.text(), /got:hello\r\n30 100\r\n/);
  assert.deepEqual(seen.discontinuities, []);
  // Auto-acknowledged and released after onClosed: the holder goes away by itself.
  await reapExited(proc.record.holder.pid);
  assert.equal(existsSync(proc.record.socketPath), false);
  await assertNothingLeft(baseline);
});

test('a program that closes its terminal and runs on is not hung up: its session lasts until it exits', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pty', 'echo before; exec </dev/null >/dev/null 2>&1; sleep 1; exit 3'));
  const seen = new Collected().attach(proc);
  await waitUntil('the first line', () => seen.text().includes('before'));
  // Closing the terminal makes the master report EIO at once; a holder that took it for the end hung the program up.
  await sleep(500);
  assert.equal(seen.exit, null, `the program was ended early: ${JSON.stringify(seen.exit)}`);
  assert.equal(seen.closed, null);
  await waitUntil('close', () => seen.closed !== null);
  assert.deepEqual(seen.closed, { code: 3, signal: null, treeGone: true });
  assert.deepEqual(seen.discontinuities, []);
  await reapExited(proc.record.holder.pid);
  await assertNothingLeft(baseline);
});

test('the holder socket is owner-only and a connection with the wrong secret is dropped without effect', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pty', 'stty -echo; while read line; do echo "line:$line"; done'));
  const seen = new Collected().attach(proc);
  assert.equal(statSync(proc.record.socketPath).mode & 0o777, 0o600);
  assert.equal(statSync(backend.holdersDir).mode & 0o777, 0o700);
  const intruder = createConnection({ path: proc.record.socketPath });
  const wrong = Buffer.alloc(32, 7);
  intruder.write(Buffer.concat([encodeHello(wrong, zeroOffsets()), ...encodeInput(Buffer.from('evil\r'))]));
  const received: Buffer[] = [];
  intruder.on('data', (chunk: Buffer) => received.push(chunk));
  await new Promise<void>((resolve) => intruder.on('close', () => resolve()));
  assert.equal(Buffer.concat(received).length, 0, 'not even a WELCOME');
  proc.write('good\r');
  await waitUntil('the real input echoed', () => seen.text().includes('line:good'));
  assert.ok(!seen.text().includes('evil'), 'the intruder\'s input never reached the program');
  assert.equal(seen.closed, null, 'the daemon\'s connection was not replaced');
  await finish(proc, seen);
  await assertNothingLeft(baseline);
});

test('detach without release, the program keeps writing, a fresh backend reattaches: every byte once, offsets continuous', async () => {
  const first = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(first, options('pty', 'i=0; while [ $i -lt 300 ]; do echo $i; i=$((i+1)); sleep 0.002; done'));
  const before = new Collected().attach(proc);
  await waitUntil('some output', () => before.next.pty > 100);
  proc.detach();
  const record: HolderRecord = JSON.parse(JSON.stringify(proc.record)) as HolderRecord;
  const resume = { ...before.next };
  await sleep(400); // the daemon is "down"; the program goes on writing into the holder's buffer
  assert.equal(before.closed, null, 'a detached process reports nothing');
  const second = new HolderBackend({ dataDir: data.dataDir });
  const again = await second.reattach(record, resume);
  const after = new Collected(resume).attach(again);
  await waitUntil('close', () => after.closed !== null);
  assert.deepEqual(after.closed, { code: 0, signal: null, treeGone: true });
  assert.deepEqual(after.discontinuities, []);
  assertCounted(before.text() + after.text(), 300);
  await reapExited(record.holder.pid);
  await assertNothingLeft(baseline);
});

test('a daemon killed with SIGKILL mid-stream: a new backend reattaches at the offsets it had and loses nothing', async () => {
  const daemon = spawn(
    process.execPath,
    ['--import', 'tsx', join(FIXTURES, 'holder-daemon.ts'), data.dataDir, 'i=0; while [ $i -lt 400 ]; do echo $i; i=$((i+1)); sleep 0.002; done'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let record: HolderRecord | null = null;
  const received: Buffer[] = [];
  let next = 0;
  const lines = createInterface({ input: daemon.stdout });
  lines.on('line', (line) => {
    if (record === null) {
      record = JSON.parse(line) as HolderRecord;
      return;
    }
    const [, offset, base64] = line.split(' ');
    assert.equal(Number(offset), next, 'the killed daemon saw continuous offsets');
    const bytes = Buffer.from(base64 ?? '', 'base64');
    received.push(bytes);
    next += bytes.length;
  });
  await waitUntil('the daemon to receive some output', () => next > 200, 20_000);
  daemon.kill('SIGKILL');
  await new Promise((resolve) => daemon.once('exit', resolve));
  lines.close();
  const held = record as HolderRecord | null;
  assert.ok(held !== null);
  assert.ok(!isGone(held.holder.pid), 'the holder outlived its daemon');
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await backend.reattach(held, { pty: next });
  const after = new Collected({ pty: next }).attach(proc);
  await waitUntil('close', () => after.closed !== null);
  assert.deepEqual(after.discontinuities, []);
  assertCounted(Buffer.concat(received).toString('latin1') + after.text(), 400);
  await reapExited(held.holder.pid);
  await assertNothingLeft(baseline);
});

test('flooding past the cap while detached blocks the program without dropping a byte; it continues after reattach', async () => {
  const cap = 64 * 1024;
  const backend = new HolderBackend({ dataDir: data.dataDir, retainBytes: cap });
  // seq writes large buffered blocks, so the cap is reached in a moment even on a loaded machine; how much it has
  // written is read from the kernel's count (/proc/<pid>/io wchar), not from a file it would have to keep writing.
  const proc = await spawnTracked(backend, options('pty', 'exec seq 0 1000000000'));
  const record = proc.record;
  proc.detach();
  const written = (): number => Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${record.program.pid}/io`, 'latin1'))?.[1] ?? NaN);
  // The program runs until the holder stops reading at the cap and the terminal's buffers fill: then it blocks.
  let last = -1;
  let stableSince = performance.now();
  await waitUntil('the program to block', () => {
    const now = written();
    if (now !== last) {
      last = now;
      stableSince = performance.now();
    }
    return now > 0 && performance.now() - stableSince > 1500;
  }, 60_000);
  const blockedAt = last;
  const again = await new HolderBackend({ dataDir: data.dataDir, retainBytes: cap }).reattach(record, { pty: 0 });
  const seen = new Collected().attach(again);
  await waitUntil('the program to go on past where it blocked', () => written() > blockedAt + 256 * 1024, 60_000);
  again.signal('group', 'SIGKILL');
  await waitUntil('close', () => seen.closed !== null);
  assert.deepEqual(seen.closed, { code: null, signal: 'SIGKILL', treeGone: true });
  assert.deepEqual(seen.discontinuities, []);
  // The kill can cut the last line in half: check the whole ones.
  const text = seen.text();
  const whole = text.slice(0, text.lastIndexOf('\r\n') + 2);
  assertCounted(whole, 1000);
  // What the program had written when it blocked, as the terminal shows it (ONLCR adds a CR per line): the holder
  // kept at least the cap, and stopped reading well before the program had written the cap plus the pty's buffers.
  const programText = whole.replaceAll('\r\n', '\n');
  const lines = programText.slice(0, blockedAt).split('\n').length - 1;
  const terminalBytes = blockedAt + lines;
  assert.ok(terminalBytes >= cap, `blocked after ${terminalBytes} bytes, before the cap of ${cap}`);
  assert.ok(terminalBytes < cap + 256 * 1024, `blocked only after ${terminalBytes} bytes: the cap of ${cap} did not hold`);
  await reapExited(record.holder.pid);
  await assertNothingLeft(baseline);
});

test('pipe kind: stdout and stderr arrive apart, end of input closes stdin', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pipe', 'echo out; echo err >&2; cat; echo done'));
  const seen = new Collected().attach(proc);
  proc.write('hello\n');
  proc.endInput();
  await waitUntil('close', () => seen.closed !== null);
  assert.deepEqual(seen.closed, { code: 0, signal: null, treeGone: true });
  assert.equal(seen.text('stdout'), 'out\nhello\ndone\n');
  assert.equal(seen.text('stderr'), 'err\n');
  assert.equal(seen.text('pty'), '');
  await reapExited(proc.record.holder.pid);
  await assertNothingLeft(baseline);
});

test('a setsid escapee is re-parented to the holder, killed through it and reaped by it; then the holder exits', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir, manualAcks: true });
  const proc = await spawnTracked(backend, options('pty', `sh ${join(FIXTURES, 'setsid-grandchild.sh')}`));
  const seen = new Collected().attach(proc);
  await waitUntil('the escapee\'s pid', () => /\d+\r\n/.test(seen.text()));
  const escapee = Number(seen.text().trim());
  await waitUntil('the escapee in a session of its own', () => readProcStat(escapee)?.sid === escapee);
  // The program dies; its escapee, in a session of its own, survives the terminal's hang-up.
  proc.signal('program', 'SIGKILL');
  await waitUntil('close', () => seen.closed !== null);
  // No treeGone: the holder still has a child (the escapee), so the engine's sweep must run.
  assert.deepEqual(seen.closed, { code: null, signal: 'SIGKILL' });
  await waitUntil('the escapee adopted by the holder', () => parentOf(escapee) === proc.record.holder.pid);
  // Manual acknowledgements: nothing released yet, so the holder stays with the escapee alive.
  await sleep(200);
  assert.equal(stateOf(escapee), 'S');
  assert.ok(!isGone(proc.record.holder.pid));
  proc.signal('tree', 'SIGKILL');
  await waitUntil('the escapee killed and reaped by the holder', () => isGone(escapee));
  proc.acknowledge('pty', seen.next.pty);
  proc.release();
  await reapExited(proc.record.holder.pid);
  assert.equal(existsSync(proc.record.socketPath), false);
  await assertNothingLeft(baseline);
});

test('release after the program exited kills what is left of the tree: the holder never leaves orphans', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pty', `sh ${join(FIXTURES, 'setsid-grandchild.sh')}`));
  const seen = new Collected().attach(proc);
  await waitUntil('the escapee\'s pid', () => /\d+\r\n/.test(seen.text()));
  const escapee = Number(seen.text().trim());
  await waitUntil('the escapee in a session of its own', () => readProcStat(escapee)?.sid === escapee);
  proc.signal('program', 'SIGKILL');
  await waitUntil('close', () => seen.closed !== null);
  // Auto mode released after onClosed: the holder kills the escapee, reaps it and exits.
  await reapExited(proc.record.holder.pid);
  assert.ok(isGone(escapee));
  await assertNothingLeft(baseline);
});

test('a holder killed with SIGKILL: the backend reports the session lost at once', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pty', 'echo up; sleep 1000'));
  const seen = new Collected().attach(proc);
  await waitUntil('output', () => seen.text().includes('up'));
  process.kill(proc.record.holder.pid, 'SIGKILL');
  await waitUntil('the loss reported', () => seen.closed !== null, 2000);
  assert.deepEqual(seen.closed, { code: null, signal: null, lost: true });
  // The program lost its terminal (SIGHUP) and was re-parented to us: kill and reap it.
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  await reapAdoptedOrphans(baseline);
  await assertNothingLeft(baseline);
});

test('reattach to a holder that is not the recorded one is refused', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const proc = await spawnTracked(backend, options('pty', 'sleep 1000'));
  const seen = new Collected().attach(proc);
  proc.detach();
  const forged: HolderRecord = { ...proc.record, program: { pid: proc.record.program.pid, startTime: proc.record.program.startTime + 1 } };
  await assert.rejects(backend.reattach(forged), /not the one recorded/);
  const gone: HolderRecord = { ...proc.record, socketPath: join(data.dataDir, 'holders', 'nobody.sock') };
  await assert.rejects(backend.reattach(gone), /No live holder/);
  const real = await backend.reattach(proc.record);
  const after = new Collected().attach(real);
  await finish(real, after);
  assert.equal(seen.closed, null);
  await assertNothingLeft(baseline);
});

test('a second daemon that attaches replaces the first: the first lets go quietly, the second gets the stream', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const first = await spawnTracked(backend, options('pty', 'stty -echo; while read line; do echo "line:$line"; done'));
  const firstSeen = new Collected().attach(first);
  first.write('one\r');
  await waitUntil('the first line', () => firstSeen.text().includes('line:one'));
  const second = await new HolderBackend({ dataDir: data.dataDir }).reattach(first.record, { ...firstSeen.next });
  const secondSeen = new Collected({ ...firstSeen.next }).attach(second);
  second.write('two\r');
  await waitUntil('the second line', () => secondSeen.text().includes('line:two'));
  assert.equal(firstSeen.closed, null, 'the replaced connection reports no loss');
  assert.ok(!firstSeen.text().includes('line:two'));
  assert.deepEqual(secondSeen.discontinuities, []);
  await finish(second, secondSeen);
  await assertNothingLeft(baseline);
});

test('asking for bytes that were acknowledged before gets a GAP naming them, then the stream from what is retained', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir, manualAcks: true });
  const proc = await spawnTracked(backend, options('pty', 'stty -echo; while read line; do echo "line:$line"; done'));
  const seen = new Collected().attach(proc);
  proc.write('one\r');
  await waitUntil('the first line', () => seen.text().includes('line:one'));
  const acked = seen.next.pty;
  proc.acknowledge('pty', acked);
  proc.write('two\r');
  await waitUntil('the second line', () => seen.text().includes('line:two'));
  proc.detach();
  const again = await backend.reattach(proc.record, { pty: 0 });
  const gaps: { from: number; to: number }[] = [];
  again.onGap(({ from, to }) => gaps.push({ from, to }));
  const after = new Collected({ pty: acked }).attach(again);
  await waitUntil('the unacknowledged line again', () => after.text().includes('line:two'));
  assert.deepEqual(gaps, [{ from: 0, to: acked }]);
  assert.equal(after.text(), 'line:two\r\n', 'only what was not acknowledged is sent again');
  assert.deepEqual(after.discontinuities, []);
  await finish(again, after);
  await assertNothingLeft(baseline);
});

test('pause stops reading (the program blocks once the terminal is full) and resume lets it go on', async () => {
  const backend = new HolderBackend({ dataDir: data.dataDir });
  const counter = join(data.dataDir, 'pause-counter');
  writeFileSync(counter, '');
  const proc = await spawnTracked(backend, options('pty', `i=0; while :; do echo $i; echo $i > ${counter}; i=$((i+1)); done`));
  const seen = new Collected().attach(proc);
  await waitUntil('output', () => seen.next.pty > 0);
  proc.pause();
  let last = '';
  let stableSince = performance.now();
  await waitUntil('the program to block', () => {
    const now = readFileSync(counter, 'latin1');
    if (now !== last) {
      last = now;
      stableSince = performance.now();
    }
    return performance.now() - stableSince > 700;
  }, 30_000);
  const receivedWhilePaused = seen.next.pty;
  await sleep(300);
  assert.equal(seen.next.pty, receivedWhilePaused, 'nothing is read while paused');
  proc.resume();
  await waitUntil('the program to go on', () => Number(readFileSync(counter, 'latin1')) > Number(last) + 1000);
  proc.signal('group', 'SIGKILL');
  await waitUntil('close', () => seen.closed !== null);
  assert.deepEqual(seen.discontinuities, []);
  const text = seen.text();
  assertCounted(text.slice(0, text.lastIndexOf('\r\n') + 2), Number(last) + 1000);
  await reapExited(proc.record.holder.pid);
  await assertNothingLeft(baseline);
});
