// Runs `pipe` sessions with node's child_process: stdout and stderr kept apart, stdin open for writes.
// The child leads its own process group (detached) so the whole group can be signalled.

import { spawn, type ChildProcess } from 'node:child_process';
import { CorralError } from '../../protocol/errors.js';
import { ProcessLifecycle } from './ProcessLifecycle.js';
import type { BackendProcess, ProcessBackend, SpawnOptions } from './ProcessBackend.js';

class PipeProcess extends ProcessLifecycle implements BackendProcess {
  readonly pid: number;
  private openStreams = 2;
  private paused = false;

  constructor(private readonly child: ChildProcess) {
    super();
    if (child.pid === undefined) throw new Error('child has no pid');
    this.pid = child.pid;
    const { stdout, stderr, stdin } = child;
    if (stdout === null || stderr === null || stdin === null) throw new Error('child stdio must be pipes');
    stdout.on('data', (data: Buffer) => this.dataEmitter.fire({ channel: 'stdout', data }));
    stderr.on('data', (data: Buffer) => this.dataEmitter.fire({ channel: 'stderr', data }));
    // 'end' (not 'close' of the child) is what proves the last byte was read from each pipe.
    const ended = (): void => {
      if (--this.openStreams === 0) this.reportOutputEnded();
    };
    stdout.once('end', ended);
    stderr.once('end', ended);
    // EPIPE: the program closed its stdin or exited; input written after that has nowhere to go.
    stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') throw error;
    });
    child.once('exit', (code, signal) => {
      this.reportExit(signal !== null ? { code: null, signal } : { code: code ?? 0, signal: null });
    });
  }

  write(data: string | Buffer): void {
    const stdin = this.child.stdin;
    if (stdin === null || stdin.destroyed || stdin.writableEnded) return;
    stdin.write(data);
  }

  endInput(): void {
    this.child.stdin?.end();
  }

  resize(): void {
    // A pipe has no terminal size.
  }

  pause(): void {
    if (this.status !== null) return;
    this.paused = true;
    this.child.stdout?.pause();
    this.child.stderr?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.child.stdout?.resume();
    this.child.stderr?.resume();
  }

  forceClose(): void {
    if (this.outputEnded) return;
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    this.openStreams = 0;
    this.reportOutputEnded();
  }
}

export class ChildProcessBackend implements ProcessBackend {
  spawn(options: SpawnOptions): BackendProcess {
    let child: ChildProcess;
    try {
      child = spawn(options.file, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      throw new CorralError('SPAWN_FAILED', `Cannot start ${options.file}: ${(error as Error).message}`, { cause: error });
    }
    if (child.pid === undefined) {
      // spawn() reports ENOENT/EACCES asynchronously through 'error'; the engine resolves executables first,
      // so this is a rare race (the file vanished). Swallowing the later 'error' event is deliberate.
      child.once('error', () => undefined);
      throw new CorralError('SPAWN_FAILED', `Cannot start ${options.file}`);
    }
    return new PipeProcess(child);
  }
}
