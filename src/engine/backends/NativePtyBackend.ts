// Runs `pty` sessions in pseudo-terminals opened and spawned by Corral's own addon (native/pty.c), the default
// backend. Against node-pty it saves what dominates a busy daemon's session start: fork(2) copies the page tables of
// a large heap (2–3 ms in a daemon under churn), and node-pty parks one thread per session in waitpid. Here the
// program starts with posix_spawn (vfork-style, cost independent of the heap), exit comes from a pidfd on the event
// loop, and output is drained by the addon's one reader thread (native/output_reader.c) until the kernel says EIO —
// so the terminal never waits on the JS thread, and every byte is delivered before the stream ends (the tail-loss
// of node-pty#72/#726 cannot happen: there is no early EOF to work around). An EIO while the program still runs
// only means it closed its terminal: the master is kept (closing it would SIGHUP the program) and read again at exit.

import { closeSync, writeSync } from 'node:fs';
import { CorralError } from '../../protocol/errors.js';
import { errnoCode, native, type FdWatcher, type OutputReader } from '../process/nativeBinding.js';
import { ProcessLifecycle } from './ProcessLifecycle.js';
import { signalName } from './signalNames.js';
import type { BackendProcess, ProcessBackend, SpawnOptions } from './ProcessBackend.js';

/**
 * Most output the reader thread gathers ahead of the JS thread per terminal. The JS thread takes everything gathered
 * at once, so this is also the largest chunk the engine sees; when it is full the terminal is not read (the program
 * blocks on output, as with nobody reading) until the JS thread catches up.
 */
export const READ_AHEAD_BYTES = 1024 * 1024;

class NativePtyProcess extends ProcessLifecycle implements BackendProcess {
  private output: OutputReader;
  /** Watches the master for room in its input queue, only while input is waiting. */
  private readonly inputWatch: FdWatcher;
  private readonly exitWatch: FdWatcher;
  private paused = false;
  /**
   * The terminal said EIO while the root process still runs: nothing holds the slave open right now (the program
   * did `exec </dev/null >/dev/null 2>&1`), but the program is alive. The master stays open until it exits — closing
   * it would hang up the terminal and SIGHUP a program that only stopped talking.
   */
  private slaveClosedEarly = false;
  /** Input the terminal could not take yet (its input queue was full): written when it becomes writable. */
  private pendingInput: Buffer[] = [];

  constructor(
    private readonly fd: number,
    readonly pid: number,
    private readonly pidfd: number,
  ) {
    super();
    this.output = this.startReading();
    this.inputWatch = native.watchFd(fd, (_readable, writable) => {
      if (writable) this.flushInput();
    });
    this.exitWatch = native.watchFd(pidfd, () => this.reap());
    this.exitWatch.start(true, false);
  }

  private startReading(): OutputReader {
    return native.readOutput(this.fd, READ_AHEAD_BYTES, (data, eof, error) => this.received(data, eof, error));
  }

  private received(data: Buffer, eof: boolean, error: string | null): void {
    if (this.outputEnded) return;
    if (data.length > 0) this.dataEmitter.fire({ channel: 'pty', data });
    if (error !== null) process.emitWarning(`terminal read failed with ${error} (pid ${this.pid}): output ends here`);
    if (!eof) return;
    if (error === null && this.status === null) {
      // EIO with the program still running: it closed its terminal, it did not end. Stop reading (the master polls
      // as hung up until a slave is opened again) but keep the master, so the terminal is not hung up under it.
      this.slaveClosedEarly = true;
      this.output.close();
      return;
    }
    this.endStream();
  }

  /** The pidfd became readable: the root process ended. Reap it (it is our child) and report its status. */
  private reap(): void {
    const result = native.waitidPidfd(this.pidfd);
    if (result === null) return;
    this.exitWatch.close();
    closeSync(this.pidfd);
    if (this.slaveClosedEarly && !this.outputEnded) {
      // Read again what anything wrote since the EIO (a reopened /dev/tty): the new reader delivers it and then
      // sees EIO again, or keeps reading while a descendant still holds the terminal, as for any exited root.
      this.slaveClosedEarly = false;
      this.output = this.startReading();
      if (this.paused) this.output.pause();
    }
    this.reportExit(result.signal !== null ? { code: null, signal: signalName(result.signal) } : { code: result.exitCode, signal: null });
  }

  private endStream(): void {
    if (this.outputEnded) return;
    this.pendingInput = [];
    // Both let go of the fd before it is closed (the reader waits out a read in progress).
    this.output.close();
    this.inputWatch.close();
    closeSync(this.fd);
    this.reportOutputEnded();
  }

  write(data: string | Buffer): void {
    if (this.outputEnded) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length === 0) return;
    this.pendingInput.push(bytes);
    if (this.pendingInput.length === 1) this.flushInput();
  }

  /** Writes queued input until the terminal stops taking it, then waits for it to become writable again. */
  private flushInput(): void {
    while (this.pendingInput.length > 0 && !this.outputEnded) {
      const next = this.pendingInput[0] as Buffer;
      let written: number;
      try {
        written = writeSync(this.fd, next);
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'EAGAIN') break;
        // EIO: the program side is gone; input to it has nowhere to go, like typing into a closed terminal.
        if (code === 'EIO') {
          this.pendingInput = [];
          break;
        }
        throw error;
      }
      if (written === next.length) this.pendingInput.shift();
      else this.pendingInput[0] = next.subarray(written);
    }
    if (!this.outputEnded) this.inputWatch.start(false, this.pendingInput.length > 0);
  }

  endInput(): void {
    // A terminal has no separate stdin; EOF is the caller's Ctrl-D.
  }

  resize(cols: number, rows: number): void {
    if (this.outputEnded || this.status !== null) return;
    native.ptyResize(this.fd, cols, rows);
  }

  pause(): void {
    if (this.status !== null || this.paused || this.outputEnded) return;
    this.paused = true;
    // A reader closed at an early EIO has nothing to pause; the one started at exit starts paused.
    if (!this.slaveClosedEarly) this.output.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.outputEnded && !this.slaveClosedEarly) this.output.resume();
  }

  forceClose(): void {
    if (this.outputEnded) return;
    process.emitWarning(`terminal stream force-closed after the process tree was gone (pid ${this.pid})`);
    this.endStream();
  }
}

export class NativePtyBackend implements ProcessBackend {
  spawn(options: SpawnOptions): BackendProcess {
    const env = Object.entries(options.env).map(([name, value]) => `${name}=${value}`);
    let pair: { fd: number; path: string } | null = null;
    try {
      pair = native.ptyOpen(options.cols, options.rows);
      const pid = native.ptySpawn(options.file, [options.file, ...options.args], env, options.cwd, pair.path);
      let pidfd: number;
      try {
        // Race-free: the child is ours and nothing reaps it before this pidfd does.
        pidfd = native.pidfdOpen(pid);
      } catch (error) {
        // Out of fds: a program we cannot watch must not run. The orphan reaper collects its zombie.
        process.kill(pid, 'SIGKILL');
        throw error;
      }
      return new NativePtyProcess(pair.fd, pid, pidfd);
    } catch (error) {
      if (pair !== null) closeSync(pair.fd);
      throw new CorralError('SPAWN_FAILED', `Cannot start ${options.file}: ${(error as Error).message}`, { cause: error });
    }
  }
}
