// Where the daemon's log lines go: its stderr, written asynchronously so that nothing the reader or the disk does can
// stall the event loop or hold up the exit (issue 15). pino's own destination (SonicBoom) retried a refused write
// forever when it flushed at exit: on a full disk (`corral mcp` sends a daemon's stderr to <data>/daemon.log) the
// daemon never exited. Writing synchronously instead stalls the loop on a pipe whose reader is slow.
//
// So: lines wait in a bounded queue, in order, and are written one batch at a time by fs.write. A pipe or terminal is
// written through a non-blocking description of its own (a blocked write would pin a libuv pool thread, and the exit
// waits for those threads): a full pipe answers EAGAIN and the batch is retried a little later. Lines that do not fit
// the queue (the reader is too slow) and lines the disk refuses (ENOSPC, EDQUOT, EIO, or a reader that left: EPIPE)
// are dropped and counted, and the count is logged as one line once a write gets through again. At exit, `drain`
// waits a bounded time for the queue to empty, never longer.

import { constants, fstatSync, openSync, write } from 'node:fs';
import { Socket } from 'node:net';

/** Queued lines at most (bytes): a minute or so of a busy daemon's log; past it a slow reader loses lines, not memory. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** One write at most: a few pages, so a slow pipe takes what it can and the rest follows. */
const MAX_BATCH_BYTES = 64 * 1024;
/** A full pipe is tried again after this, doubling up to the max: its reader frees room at its own pace. */
const RETRY_FIRST_MS = 5;
const RETRY_MAX_MS = 200;
/** pino's warn level: the loss report reads like any other line of the log. */
const WARN_LEVEL = 40;

interface Batch {
  data: Buffer;
  offset: number;
  lines: number;
  /** The loss counts this batch reports (in its first line): cleared once it is written. */
  reports: { slow: number; refused: number };
}

export class LogDestination {
  private readonly send: Send;
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private batch: Batch | null = null;
  private writing = false;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Lines dropped because the queue was full (a slow reader), and because the write was refused (a full disk). */
  private slow = 0;
  private refused = 0;
  private readonly idle: (() => void)[] = [];

  constructor(fd = 2) {
    this.send = sender(fd);
  }

  /** pino's call: one JSON line, newline included. Never blocks, never throws. */
  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      this.slow++;
      return;
    }
    this.queue.push(line);
    this.queuedBytes += bytes;
    this.pump();
  }

  /** Lines not yet written (queued or in flight); tests and the exit look at it. */
  get pending(): number {
    return this.queue.length + (this.batch?.lines ?? 0);
  }

  /** Resolves once every queued line is written (or dropped), or after `deadlineMs`, whichever comes first. */
  drain(deadlineMs: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idle.splice(this.idle.indexOf(done), 1);
        resolve();
      }, deadlineMs);
      this.idle.push(done);
    });
  }

  private pump(): void {
    if (this.writing || this.retryTimer !== null) return;
    this.batch ??= this.nextBatch();
    if (this.batch === null) {
      for (const done of this.idle.splice(0)) done();
      return;
    }
    const batch = this.batch;
    this.writing = true;
    this.send(batch.data.subarray(batch.offset), (error, written) => {
      this.writing = false;
      if (error === null || error === undefined) {
        this.retryMs = RETRY_FIRST_MS;
        batch.offset += written;
        if (batch.offset >= batch.data.length) {
          this.slow -= batch.reports.slow;
          this.refused -= batch.reports.refused;
          this.batch = null;
        }
        this.pump();
        return;
      }
      if (error.code === 'EAGAIN' || error.code === 'EINTR') {
        // The pipe is full: its reader is behind. Try again shortly; the timer keeps no stopped daemon alive.
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, this.retryMs).unref();
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        return;
      }
      // ENOSPC, EDQUOT, EIO, EPIPE, anything else: a retry would not help now. The lines are lost and counted.
      this.refused += batch.lines;
      this.batch = null;
      this.pump();
    });
  }

  /** The next lines to write, in order, led by a report of the lines lost so far (if any). */
  private nextBatch(): Batch | null {
    if (this.queue.length === 0) return null;
    const reports = { slow: this.slow, refused: this.refused };
    const parts: string[] = [];
    let bytes = 0;
    if (reports.slow + reports.refused > 0) {
      const line = `${JSON.stringify({ level: WARN_LEVEL, time: Date.now(), name: 'corral', droppedSlowReader: reports.slow, droppedWriteRefused: reports.refused, msg: `${reports.slow + reports.refused} log lines were dropped (a reader too slow, or writes refused, e.g. a full disk)` })}\n`;
      parts.push(line);
      bytes += Buffer.byteLength(line);
    }
    let lines = 0;
    for (let line = this.queue[0]; line !== undefined; line = this.queue[0]) {
      const size = Buffer.byteLength(line);
      if (lines > 0 && bytes + size > MAX_BATCH_BYTES) break;
      this.queue.shift();
      this.queuedBytes -= size;
      bytes += size;
      parts.push(line);
      lines++;
    }
    return { data: Buffer.from(parts.join('')), offset: 0, lines, reports };
  }
}

/** Writes some or all of `data`; answers how much, or why nothing (EAGAIN: try again later). */
type Send = (data: Buffer, done: (error: NodeJS.ErrnoException | null, written: number) => void) => void;

/**
 * How lines reach the descriptor. A regular file is written as it is (it never blocks; a full disk answers ENOSPC). A
 * pipe, FIFO or terminal is opened again, non-blocking, through /proc: a description of our own, so a full pipe answers
 * EAGAIN instead of pinning a pool thread, and the flag does not change the description other processes share. A
 * socket cannot be opened that way (a child's stdio pipe from Node is a socket pair): Node's own stderr stream writes
 * it, through libuv, which never blocks on it; the write completes once the socket took all of it.
 */
function sender(fd: number): Send {
  const viaFd = (target: number): Send => (data, done) => write(target, data, 0, data.length, null, (error, written) => done(error, written));
  try {
    if (fstatSync(fd).isFile()) return viaFd(fd);
    return viaFd(openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_APPEND));
  } catch {
    if (fd !== 2) return viaFd(fd);
    // libuv opens it non-blocking and polls it; its errors arrive through the write callbacks.
    const socket = new Socket({ fd, readable: false, writable: true });
    socket.on('error', () => {});
    // Like the retry timer: the log keeps no stopped daemon alive.
    socket.unref();
    return (data, done) => {
      socket.write(data, (error) => done(error ?? null, error ? 0 : data.length));
    };
  }
}
