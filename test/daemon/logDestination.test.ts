// The daemon's log (issue 15): `corral mcp` sends a daemon's stderr to <data>/daemon.log, and pino's own destination
// retried a write the full disk refused forever when it flushed at exit, so the daemon never exited. Its destination
// now writes asynchronously: lines a full disk refuses are dropped and counted (and the count logged once there is
// room), lines a slow reader cannot take queue up to a bound and are then dropped and counted, the loop never waits
// for either, lines are never reordered, and the exit waits a bounded time for the queue. Real processes throughout: a
// real daemon and real node processes writing into a file on a real full tmpfs, and into a pipe nobody reads.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, startDaemon } from '../helpers/daemonHarness.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

/** Far longer than any of these processes needs to exit; a hang (the bug) is killed at this point and fails the test. */
const HANG_MS = 60_000;

const LOGGER = JSON.stringify(join(REPO_ROOT, 'src', 'daemon', 'logger.ts'));
const DESTINATION = JSON.stringify(join(REPO_ROOT, 'src', 'daemon', 'logDestination.ts'));

/** Resolves with the exit code, or null (after SIGKILL) when the process has not exited within HANG_MS. */
async function exitOrKill(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Appends to `path` until the disk refuses: the filler takes the free pages, this the slack in the file's last one. */
function fillLastPage(path: string): void {
  const fd = openSync(path, 'a');
  try {
    for (;;) writeSync(fd, '\n');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

test('a daemon whose stderr is a file on a full disk exits on SIGTERM', async (t) => {
  const disk = mountSmallDisk(1);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  // The data dir stays on the ordinary disk: only the log is refused (the full data dir is storageFull.test.ts's).
  const logPath = join(disk.dir, 'daemon.log');
  const logFd = openSync(logPath, 'a');
  let daemon;
  try {
    daemon = await startDaemon({ stderrFd: logFd });
  } finally {
    closeSync(logFd);
  }
  try {
    disk.fill();
    fillLastPage(logPath);
    assert.equal((await daemon.request('GET', '/healthz')).status, 200);
    // Shutting down logs ("shutting down", "shutdown complete"): every one of those lines is refused.
    daemon.child.kill('SIGTERM');
    const exit = await exitOrKill(daemon.child);
    assert.deepEqual(exit, { code: 0, signal: null }, `the daemon did not exit on the full disk; its log ends: ${readFileSync(logPath, 'utf8').trim().slice(-1500)}`);
  } finally {
    daemon.child.kill('SIGKILL');
    daemon.cleanup();
    disk.unmount();
  }
});

const FULL_DISK_SCRIPT = `
import { createLogger } from ${LOGGER};
import { LogDestination } from ${DESTINATION};
import { rmSync } from 'node:fs';
const log = new LogDestination();
const logger = createLogger({ destination: log });
for (let i = 0; i < 3; i++) logger.info({ i, pad: 'x'.repeat(3000) }, 'refused line');
await log.drain(${HANG_MS});
process.stdout.write('ALIVE\\n');
rmSync(process.argv[2]);
logger.info('room again');
await log.drain(${HANG_MS});
`;

test('lines a full disk refuses are dropped and counted, and the count is logged once there is room', async (t) => {
  const disk = mountSmallDisk(1);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  try {
    const script = join(disk.dir, 'log.mts');
    writeFileSync(script, FULL_DISK_SCRIPT);
    const logPath = join(disk.dir, 'daemon.log');
    writeFileSync(logPath, '');
    disk.fill();
    fillLastPage(logPath);
    const logFd = openSync(logPath, 'a');
    let child;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', script, join(disk.dir, 'filler')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', logFd] });
    } finally {
      closeSync(logFd);
    }
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exit = await exitOrKill(child);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(stdout, 'ALIVE\n');
    const lines = readFileSync(logPath, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; droppedWriteRefused?: number; droppedSlowReader?: number });
    assert.deepEqual(
      lines.map((line) => [line.msg, line.droppedWriteRefused, line.droppedSlowReader]),
      [
        ['3 log lines were dropped (a reader too slow, or writes refused, e.g. a full disk)', 3, 0],
        ['room again', undefined, undefined],
      ],
    );
  } finally {
    disk.unmount();
  }
});

/** Far more than the queue (1 MiB) and the pipe (64 KiB) hold: ~300 bytes a line. */
const SLOW_LINES = 20_000;

const SLOW_READER_SCRIPT = `
import { createLogger } from ${LOGGER};
import { LogDestination } from ${DESTINATION};
import { createServer } from 'node:http';
const log = new LogDestination();
const logger = createLogger({ destination: log });
let next = 0;
function burst() {
  for (let k = 0; k < 500 && next < ${SLOW_LINES}; k++, next++) logger.info({ seq: next, pad: 'x'.repeat(200) }, 'line');
  if (next < ${SLOW_LINES}) setImmediate(burst);
  else process.stdout.write('LOGGED\\n');
}
const server = createServer((request, response) => {
  if (request.url === '/exit') {
    response.end('bye');
    server.close();
    // The daemon's exit: a bounded wait for the queue, then out, whether the reader took the lines or not.
    void log.drain(1000).then(() => process.exit(0));
    return;
  }
  response.end(JSON.stringify({ pending: log.pending }));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('PORT ' + server.address().port + '\\n');
  burst();
});
`;

interface SlowChild {
  child: ChildProcess;
  port: number;
  /** Starts reading the child's stderr (until then nobody reads it). */
  read(onData: (chunk: string) => void): void;
  close(): void;
}

/**
 * The two kinds of stderr pipe a daemon gets: a socket pair (what Node's spawn makes, and systemd's journal stream)
 * and a real pipe (a shell's `corral serve 2>&1 | tee log`), here a FIFO.
 */
const PIPE_KINDS = ['socket pair', 'fifo'] as const;

/** A node process logging SLOW_LINES lines into a stderr pipe this test does not read (yet); resolves once it logged them all. */
async function startSlowReaderChild(dir: string, kind: (typeof PIPE_KINDS)[number]): Promise<SlowChild> {
  const script = join(dir, 'slow.mts');
  writeFileSync(script, SLOW_READER_SCRIPT);
  let child: ChildProcess;
  let reader: Socket | null = null;
  if (kind === 'fifo') {
    const fifo = join(dir, 'stderr.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    reader = new Socket({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
    // Not flowing: nothing is read until the test reads.
    reader.pause();
    const writeFd = openSync(fifo, 'w');
    try {
      child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', writeFd] });
    } finally {
      closeSync(writeFd);
    }
  } else {
    child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Not flowing: the pipe fills (node buffers a little of it and then stops reading) until the test reads.
    child.stderr?.pause();
  }
  const stream = reader ?? child.stderr;
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const deadline = performance.now() + HANG_MS;
  while (!stdout.includes('LOGGED\n')) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill('SIGKILL');
      reader?.destroy();
      throw new Error(`the logging process did not log its lines (exit ${child.exitCode}): ${stdout}`);
    }
    await sleep(50);
  }
  return {
    child,
    port: Number(/PORT (\d+)/.exec(stdout)?.[1]),
    read(onData) {
      stream?.setEncoding('utf8').on('data', onData);
      stream?.resume();
    },
    close() {
      child.kill('SIGKILL');
      reader?.destroy();
    },
  };
}

for (const kind of PIPE_KINDS) {
test(`a stderr reader too slow to keep up (${kind}) neither stalls the loop nor reorders lines; what it missed is counted`, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'corral-log-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const slow = await startSlowReaderChild(scratch, kind);
  const { child, port } = slow;
  try {
    // Every line is logged, the pipe is full (lines wait in the queue), and the process still answers.
    const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pending: number };
    assert.ok(answer.pending > 0, `no lines queued behind the full pipe: ${JSON.stringify(answer)}`);

    // The reader catches up: it gets the queued lines in order, then the count of the ones that did not fit.
    let stderr = '';
    slow.read((chunk) => (stderr += chunk));
    for (;;) {
      const now = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { pending: number };
      if (now.pending === 0) break;
      await sleep(50);
    }
    await fetch(`http://127.0.0.1:${port}/exit`);
    assert.deepEqual(await exitOrKill(child), { code: 0, signal: null });
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq?: number; droppedSlowReader?: number; droppedWriteRefused?: number });
    const seqs = lines.flatMap((line) => (line.seq === undefined ? [] : [line.seq]));
    seqs.forEach((seq, i) => assert.ok(i === 0 || seq > (seqs[i - 1] ?? Infinity), `line ${seq} came after ${seqs[i - 1]}`));
    const reports = lines.filter((line) => line.droppedSlowReader !== undefined);
    assert.equal(reports.length, 1, JSON.stringify(reports));
    const missed = reports[0]?.droppedSlowReader ?? 0;
    assert.ok(missed > 0);
    assert.equal(reports[0]?.droppedWriteRefused, 0);
    // Every line is either in the log or in the count.
    assert.equal(seqs.length + missed, SLOW_LINES);
  } finally {
    slow.close();
  }
});
}

for (const kind of PIPE_KINDS) {
test(`a stderr pipe nobody reads (${kind}) does not hold up the exit`, async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'corral-log-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const slow = await startSlowReaderChild(scratch, kind);
  try {
    await fetch(`http://127.0.0.1:${slow.port}/exit`);
    assert.deepEqual(await exitOrKill(slow.child), { code: 0, signal: null });
  } finally {
    slow.close();
  }
});
}
