// The only module that imports node-pty: runs `pty` sessions in real pseudo-terminals.
// It must deliver every byte the program wrote before it reports the process closed (node-pty#72, #726).

import { createRequire } from 'node:module';
import * as pty from 'node-pty';
import { Emitter } from '../../common/lifecycle.js';
import { CorralError } from '../../common/errors.js';
import { signalName } from './signalNames.js';
import type { BackendProcess, OutputChannel, ProcessBackend, ProcessStatus, SpawnOptions } from './ProcessBackend.js';

type NativeExitCallback = (code: number, signal: number) => void;
interface NodePtyNative {
  fork: (...args: unknown[]) => unknown;
}

/**
 * node-pty#72 / #726: node-pty reports exit only after its read stream closes, but it destroys that stream
 * 200 ms after the child exits (a macOS workaround), dropping whatever the kernel still buffers when the event
 * loop is busy. We take the native exit callback for ourselves instead, so node-pty never arms that timer and
 * its stream stays open until the terminal really reaches EOF (EIO once every holder of the slave is gone).
 * The engine then ends the remaining tree, which is what makes EOF come. This wrapper is installed once.
 */
let pendingExitHook: NativeExitCallback | null = null;
function installExitInterceptor(): void {
  const requireFromPty = createRequire(require_resolve('node-pty'));
  const native = requireFromPty('../build/Release/pty.node') as NodePtyNative;
  const marker = native as NodePtyNative & { __corralWrapped?: boolean };
  if (marker.__corralWrapped === true) return;
  const originalFork = native.fork;
  native.fork = (...args: unknown[]) => {
    const hook = pendingExitHook;
    pendingExitHook = null;
    if (hook !== null && typeof args[args.length - 1] === 'function') {
      args[args.length - 1] = hook;
    }
    return originalFork(...args);
  };
  marker.__corralWrapped = true;
}

function require_resolve(id: string): string {
  return createRequire(import.meta.url).resolve(id);
}

installExitInterceptor();

const FORCE_CLOSE_NOTE = 'terminal stream force-closed after the process tree was gone';

class PtyProcess implements BackendProcess {
  private readonly dataEmitter = new Emitter<{ channel: OutputChannel; data: Buffer }>();
  private readonly exitEmitter = new Emitter<ProcessStatus>();
  private readonly closedEmitter = new Emitter<ProcessStatus>();
  readonly onData = this.dataEmitter.event;
  readonly onProcessExit = this.exitEmitter.event;
  readonly onClosed = this.closedEmitter.event;

  private status: ProcessStatus | null = null;
  private streamEnded = false;
  private closedFired = false;
  private paused = false;
  readonly pid: number;

  constructor(
    private readonly term: pty.IPty,
    setExitHook: (hook: NativeExitCallback) => void,
  ) {
    this.pid = term.pid;
    setExitHook((code, signal) => this.handleExit(code, signal));
    term.onData((chunk: string | Buffer) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      this.dataEmitter.fire({ channel: 'pty', data });
    });
    // 'close' comes when the master reaches EOF/EIO: nothing more can be read.
    (term as unknown as { on(event: 'close', listener: () => void): void }).on('close', () => {
      this.streamEnded = true;
      this.maybeClosed();
    });
  }

  private handleExit(code: number, signal: number): void {
    this.status = signal > 0 ? { code: null, signal: signalName(signal) } : { code, signal: null };
    // Never stay paused across an exit: the tail must drain.
    if (this.paused) this.resume();
    this.exitEmitter.fire(this.status);
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (this.closedFired || this.status === null || !this.streamEnded) return;
    this.closedFired = true;
    this.closedEmitter.fire(this.status);
    this.dataEmitter.dispose();
    this.exitEmitter.dispose();
    this.closedEmitter.dispose();
  }

  write(data: string | Buffer): void {
    if (this.streamEnded) return;
    this.term.write(data);
  }

  endInput(): void {
    // A terminal has no separate stdin; EOF is the caller's Ctrl-D.
  }

  resize(cols: number, rows: number): void {
    if (this.streamEnded || this.status !== null) return;
    this.term.resize(cols, rows);
  }

  pause(): void {
    if (this.status !== null || this.paused) return;
    this.paused = true;
    this.term.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.term.resume();
  }

  forceClose(): void {
    if (this.streamEnded) return;
    process.emitWarning(`${FORCE_CLOSE_NOTE} (pid ${this.pid})`);
    this.streamEnded = true;
    // Not term.destroy(): that SIGHUPs the root pid by number, which was reaped long ago and may be recycled.
    (this.term as unknown as { _socket: { destroy(): void } })._socket.destroy();
    this.maybeClosed();
  }
}

export class NodePtyBackend implements ProcessBackend {
  spawn(options: SpawnOptions): BackendProcess {
    let hook: NativeExitCallback | null = null;
    pendingExitHook = (code, signal) => {
      if (hook !== null) hook(code, signal);
      else queueMicrotask(() => hook?.(code, signal));
    };
    let term: pty.IPty;
    try {
      term = pty.spawn(options.file, options.args, {
        name: options.env.TERM ?? 'xterm-256color',
        cols: options.cols,
        rows: options.rows,
        cwd: options.cwd,
        env: options.env,
        encoding: null,
      });
    } catch (error) {
      pendingExitHook = null;
      throw new CorralError('SPAWN_FAILED', `Cannot start ${options.file}: ${(error as Error).message}`, { cause: error });
    }
    return new PtyProcess(term, (h) => {
      hook = h;
    });
  }
}
