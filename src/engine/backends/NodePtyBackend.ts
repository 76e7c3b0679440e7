// The only module that imports node-pty: runs `pty` sessions in real pseudo-terminals.
// It must deliver every byte the program wrote before it reports the process closed (node-pty#72, #726).

import { readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import * as pty from 'node-pty';
import { CorralError } from '../../protocol/errors.js';
import { ProcessLifecycle } from './ProcessLifecycle.js';
import { signalName } from './signalNames.js';
import type { BackendProcess, ProcessBackend, SpawnOptions } from './ProcessBackend.js';

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
/** One read of the terminal master when draining it after libuv's early EOF: the size libuv itself reads with. */
const DRAIN_CHUNK_BYTES = 64 * 1024;
/**
 * Upper bound of a drain. Once the slave side is closed nothing can add to the master's buffers, which hold at
 * most the kernel's pty flip buffers (tens of KB) plus the line discipline's 4 KB; 4 MiB is far past that and only
 * stops a pathological loop (a slave reopened and flooding) from blocking the event loop.
 */
const MAX_DRAIN_BYTES = 4 * 1024 * 1024;

/** node-pty's read stream and master fd: not in its public typings, but what the drain below needs. */
interface PtyInternals {
  _socket: Socket;
  fd: number;
}

class PtyProcess extends ProcessLifecycle implements BackendProcess {
  private paused = false;
  readonly pid: number;

  constructor(
    private readonly term: pty.IPty,
    setExitHook: (hook: NativeExitCallback) => void,
  ) {
    super();
    this.pid = term.pid;
    setExitHook((code, signal) => this.handleExit(code, signal));
    term.onData((chunk: string | Buffer) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      this.dataEmitter.fire({ channel: 'pty', data });
    });
    const internals = term as unknown as PtyInternals;
    // libuv reports EOF on a pollable fd when POLLHUP comes with a read shorter than its buffer (uv__stream_io).
    // For a socket that means drained; a pty master, though, hands out at most the line discipline's 4 KB per read
    // while the kernel still holds more in its flip buffers, so once the slave is closed libuv declares EOF with up
    // to tens of KB unread and node-pty closes the fd: the tail of a fast writer is lost (measured: 30 of 48 runs of
    // "write 200 KB, exit" at 12 concurrent sessions lost 2-14 KB). 'end' fires before the stream destroys the fd,
    // so read the rest ourselves until the kernel says EIO (slave closed and nothing left).
    internals._socket.prependListener('end', () => this.drainAfterEarlyEof(internals.fd));
    // 'close' comes when the master reaches EOF/EIO: nothing more can be read.
    (term as unknown as { on(event: 'close', listener: () => void): void }).on('close', () => this.reportOutputEnded());
  }

  private drainAfterEarlyEof(fd: number): void {
    const buffer = Buffer.allocUnsafe(DRAIN_CHUNK_BYTES);
    let drained = 0;
    while (drained < MAX_DRAIN_BYTES) {
      let read: number;
      try {
        read = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // EIO: the slave is closed and the buffers are empty, the normal end. EAGAIN: a slave holder is still open,
        // so nothing more is pending now. EBADF: the fd is already closed. Anything else is a real fault.
        if (code === 'EIO' || code === 'EAGAIN' || code === 'EBADF') return;
        throw error;
      }
      if (read === 0) return;
      drained += read;
      this.dataEmitter.fire({ channel: 'pty', data: Buffer.from(buffer.subarray(0, read)) });
    }
  }

  private handleExit(code: number, signal: number): void {
    this.reportExit(signal > 0 ? { code: null, signal: signalName(signal) } : { code, signal: null });
  }

  write(data: string | Buffer): void {
    if (this.outputEnded) return;
    this.term.write(data);
  }

  endInput(): void {
    // A terminal has no separate stdin; EOF is the caller's Ctrl-D.
  }

  resize(cols: number, rows: number): void {
    if (this.outputEnded || this.status !== null) return;
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
    if (this.outputEnded) return;
    process.emitWarning(`${FORCE_CLOSE_NOTE} (pid ${this.pid})`);
    // Not term.destroy(): that SIGHUPs the root pid by number, which was reaped long ago and may be recycled.
    (this.term as unknown as { _socket: { destroy(): void } })._socket.destroy();
    this.reportOutputEnded();
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
