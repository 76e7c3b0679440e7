// The native pty backend's output path (native/output_reader.c): quiet terminals are read on the event loop, flooding
// ones by one shared reader thread, never more than READ_AHEAD_BYTES ahead of the JS thread; bytes stay in order
// across the switches, pause is honoured, and close lets go of a terminal even in the middle of a flood. Real
// terminals and real processes throughout.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { NativePtyBackend, READ_AHEAD_BYTES } from '../../../src/engine/backends/NativePtyBackend.js';
import type { BackendProcess, ProcessStatus } from '../../../src/engine/backends/ProcessBackend.js';
import { fixture } from '../../helpers/fixtures.js';

const FLOOD = fixture('flood.mjs');
const backend = new NativePtyBackend();

interface Run {
  proc: BackendProcess;
  chunks: Buffer[];
  bytes: () => number;
  closed: Promise<ProcessStatus>;
}

function flood(bytes: number): Run {
  return run([FLOOD, String(bytes)]);
}

function run(args: string[]): Run {
  const proc = backend.spawn({
    kind: 'pty',
    file: process.execPath,
    args,
    cwd: import.meta.dirname,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cols: 80,
    rows: 24,
  });
  const chunks: Buffer[] = [];
  let total = 0;
  proc.onData(({ data }) => {
    chunks.push(data);
    total += data.length;
  });
  const closed = new Promise<ProcessStatus>((resolve) => proc.onClosed(resolve));
  return { proc, chunks, bytes: () => total, closed };
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

/** Resolves once chunk `index` has arrived, or after `limitMs` (the caller's assertions then say what is missing). */
async function nextChunk(run: Run, index: number, limitMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (run.chunks.length <= index && performance.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
}

function assertAllFloodBytes(run: Run, expected: number): void {
  const all = Buffer.concat(run.chunks);
  assert.equal(all.length, expected);
  assert.ok(all.equals(Buffer.alloc(expected, 'x')), 'every byte is the flood\'s, in order');
}

test('many terminals flooding at once share the reader thread and each gets every byte', async () => {
  const runs = Array.from({ length: 16 }, () => flood(2 * 1024 * 1024));
  const statuses = await Promise.all(runs.map((run) => run.closed));
  for (const [i, run] of runs.entries()) {
    assert.deepEqual(statuses[i], { code: 0, signal: null });
    assertAllFloodBytes(run, 2 * 1024 * 1024);
  }
});

test('output that alternates floods and quiet lines arrives complete and in order across loop and thread reads', async () => {
  // Each flood moves the terminal to the reader thread; each pause longer than the quiet time brings it back to
  // the event loop, where the small line is read. Numbered lines make any loss or reordering visible.
  const script = `
    const lines = (from, count) => Array.from({ length: count }, (_, i) => String(from + i).padStart(9, '0') + '\\n').join('');
    let n = 0;
    const round = (left) => {
      if (left === 0) return;
      process.stdout.write(lines(n, 30000)); n += 30000;
      setTimeout(() => { process.stdout.write(lines(n, 1)); n += 1; setTimeout(() => round(left - 1), 150); }, 150);
    };
    round(4);`;
  const mixed = run(['-e', script]);
  assert.deepEqual(await mixed.closed, { code: 0, signal: null });
  const text = Buffer.concat(mixed.chunks).toString('latin1');
  const numbers = text.split('\r\n').filter((line) => line.length > 0);
  assert.equal(numbers.length, 4 * 30001);
  numbers.forEach((line, i) => assert.equal(line, String(i).padStart(9, '0')));
});

test('while the JS thread is blocked the reader of a flooding terminal gathers at most READ_AHEAD_BYTES, then hands them over in one piece', async () => {
  const total = 8 * 1024 * 1024;
  const run = flood(total);
  // A terminal starts on the event loop and moves to the thread once the loop falls behind (a read that finds the
  // line discipline full): fall behind on purpose, then let the loop take one read, which hands the terminal over.
  await nextChunk(run, 0, 10_000); // the flood has started (node's start-up is slow on a loaded machine)
  blockEventLoop(100);
  await new Promise((resolve) => setImmediate(resolve));
  const before = run.chunks.length;
  // Block the event loop: only the reader thread runs, and it must stop at its bound (the writer then blocks).
  blockEventLoop(400);
  // The thread's hand-over is dispatched in the loop's poll phase, which a due timer may precede on a loaded
  // machine: wait for the next chunk rather than for one turn of the loop.
  await nextChunk(run, before, 2000);
  const firstAfter = run.chunks[before];
  assert.ok(firstAfter !== undefined, `output was gathered while the JS thread was blocked (chunks before: ${run.chunks.slice(0, before).map((c) => c.length).join(',')}; total ${run.bytes()})`);
  assert.ok(firstAfter.length <= READ_AHEAD_BYTES, `one chunk of ${firstAfter.length} bytes, more than the bound`);
  assert.ok(firstAfter.length > 64 * 1024, `the blocked time was used: ${firstAfter.length} bytes gathered`);
  await run.closed;
  assertAllFloodBytes(run, total);
});

test('a paused terminal is not read; on resume every byte still arrives', async () => {
  const total = 6 * 1024 * 1024;
  const run = flood(total);
  await sleep(30);
  run.proc.pause();
  // What the thread had already gathered (or was reading at the pause) is still delivered: wait until it has been.
  let atPause = run.bytes();
  for (let quiet = 0; quiet < 2; ) {
    await sleep(50);
    quiet = run.bytes() === atPause ? quiet + 1 : 0;
    atPause = run.bytes();
  }
  await sleep(300);
  assert.equal(run.bytes(), atPause, 'nothing was read while paused');
  assert.ok(atPause < total, 'the flood was still running when paused');
  run.proc.resume();
  await run.closed;
  assertAllFloodBytes(run, total);
});

test('closing a terminal in the middle of a flood lets go of it at once; its fd number can serve the next one', async () => {
  const endless = flood(1024 * 1024 * 1024);
  await nextChunk(endless, 0, 10_000);
  await sleep(100); // well into the flood: the terminal is on the reader thread
  assert.ok(endless.bytes() > 0);
  endless.proc.forceClose();
  const afterClose = endless.bytes();
  // The closed master hangs up the terminal: the program gets SIGHUP, and is reaped through its pidfd.
  const status = await endless.closed;
  assert.equal(status.signal, 'SIGHUP');
  assert.equal(endless.bytes(), afterClose, 'nothing is delivered after close');
  const next = flood(1024 * 1024);
  await next.closed;
  assertAllFloodBytes(next, 1024 * 1024);
});

test('a program that closes its terminal and keeps running is not hung up; what it writes to a reopened /dev/tty still arrives before closed', async () => {
  const proc = backend.spawn({
    kind: 'pty',
    file: '/bin/sh',
    args: ['-c', 'printf before; exec </dev/null >/dev/null 2>&1; sleep 0.6; echo after >/dev/tty; sleep 0.3; exit 5'],
    cwd: import.meta.dirname,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cols: 80,
    rows: 24,
  });
  const chunks: Buffer[] = [];
  proc.onData(({ data }) => chunks.push(data));
  let exitedAt = -1;
  proc.onProcessExit(() => (exitedAt = performance.now()));
  const started = performance.now();
  const status = await new Promise<ProcessStatus>((resolve) => proc.onClosed(resolve));
  // Before the fix the master was closed at the EIO (~10 ms in), which hung the terminal up: SIGHUP, no "after".
  assert.deepEqual(status, { code: 5, signal: null });
  assert.ok(exitedAt - started >= 800, `the program ran its course (${Math.round(exitedAt - started)} ms)`);
  assert.equal(Buffer.concat(chunks).toString().replace(/\r/g, ''), 'beforeafter\n');
});

test('pausing a terminal whose program closed it is harmless: the tail still arrives once the program exits', async () => {
  const proc = backend.spawn({
    kind: 'pty',
    file: '/bin/sh',
    args: ['-c', 'printf before; exec </dev/null >/dev/null 2>&1; sleep 0.4; echo after >/dev/tty'],
    cwd: import.meta.dirname,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cols: 80,
    rows: 24,
  });
  const chunks: Buffer[] = [];
  proc.onData(({ data }) => chunks.push(data));
  const closed = new Promise<ProcessStatus>((resolve) => proc.onClosed(resolve));
  await sleep(200);
  proc.pause();
  proc.resume();
  proc.pause();
  assert.deepEqual(await closed, { code: 0, signal: null });
  assert.equal(Buffer.concat(chunks).toString().replace(/\r/g, ''), 'beforeafter\n');
});
