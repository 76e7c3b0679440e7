// Where the daemon's log lines go: its stderr, written synchronously, and dropped (counted) when they cannot be
// written. pino's own destination (SonicBoom) retries a failed write forever when its buffer is flushed at exit: on a
// full disk (`corral mcp` sends a daemon's stderr to <data>/daemon.log) the daemon then never exited (issue 15), and
// an 'error' it emits with nobody listening is an uncaught exception.

import { writeSync } from 'node:fs';

/** How long one line may wait for a full pipe (a slow reader) before it is dropped: the loop must not stall longer. */
const MAX_PIPE_WAIT_MS = 1_000;
const PIPE_WAIT_STEP_MS = 10;

export class LogDestination {
  /** Lines the disk or the reader refused: lost, and said so at the next line that gets through. */
  private dropped = 0;
  private readonly pause = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly fd = 2) {}

  write(line: string): void {
    if (this.dropped > 0 && this.writeAll(Buffer.from(`{"level":40,"msg":"${this.dropped} log lines could not be written (disk full or no reader)"}\n`))) {
      this.dropped = 0;
    }
    if (!this.writeAll(Buffer.from(line))) this.dropped++;
  }

  private writeAll(data: Buffer): boolean {
    let done = 0;
    let waited = 0;
    while (done < data.length) {
      try {
        done += writeSync(this.fd, data, done, data.length - done);
      } catch (error) {
        // A non-blocking pipe that is full: its reader is slow; give it a moment, not forever.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && waited < MAX_PIPE_WAIT_MS) {
          Atomics.wait(this.pause, 0, 0, PIPE_WAIT_STEP_MS);
          waited += PIPE_WAIT_STEP_MS;
          continue;
        }
        // ENOSPC, EDQUOT, EIO, EPIPE: nothing a retry would fix now.
        return false;
      }
    }
    return true;
  }
}
