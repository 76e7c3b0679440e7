// Loads the corral_native addon (native/corral_native.c) and gives it a typed face.
// Must never be imported by transports: only the process layer talks to these raw syscalls.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What waitpid(pid, WNOHANG) reported for a child that has ended. */
export interface WaitResult {
  pid: number;
  /** Exit status when the child exited normally, else null. */
  exitCode: number | null;
  /** Signal number that ended the child, else null. */
  signal: number | null;
}

/** A pty master opened by ptyOpen: non-blocking, close-on-exec. */
export interface PtyPair {
  fd: number;
  /** The slave's path (/dev/pts/N): the spawned program opens it as its controlling terminal. */
  path: string;
}

/** Watches one fd on Node's event loop (uv_poll); the callback gets which of the asked conditions hold. */
export interface FdWatcher {
  /** Which conditions to watch; (false, false) stops watching. */
  start(readable: boolean, writable: boolean): void;
  /** Stops for good and releases the handle (the fd stays open: it belongs to the caller). Idempotent. */
  close(): void;
}

/** Reads one terminal on the addon's reader thread (native/output_reader.c); see `readOutput`. */
export interface OutputReader {
  /** Stops reading (what was already read is still delivered). */
  pause(): void;
  resume(): void;
  /** Stops for good; the thread never touches the fd afterwards, so the caller may close it at once. Idempotent. */
  close(): void;
}

/** A resource limit; Infinity stands for RLIM_INFINITY. */
export interface ResourceLimit {
  soft: number;
  hard: number;
}

/** The resources the addon reads and sets: descriptors (the daemon's own) and stack (exec's argument space). */
export type ResourceName = 'nofile' | 'stack';

export interface CorralNative {
  /** prctl(PR_SET_CHILD_SUBREAPER): orphans of our descendants are re-parented to us, not to PID 1. */
  setChildSubreaper(): void;
  /** prctl(PR_GET_CHILD_SUBREAPER): whether orphans of our descendants come to us. */
  isChildSubreaper(): boolean;
  /** waitpid(pid, WNOHANG): null while the child runs; throws code 'ECHILD' when it is not our child. */
  waitpidNoHang(pid: number): WaitResult | null;
  /** pidfd_open(pid): a close-on-exec fd pinned to that process; throws code 'ESRCH' when it is gone. */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(fd, signo): throws code 'ESRCH' when the process has been reaped. */
  pidfdSendSignal(fd: number, signo: number): void;
  /** sysconf(_SC_CLK_TCK): the unit of /proc/<pid>/stat times. */
  clockTicksPerSecond(): number;
  /** sysconf(_SC_PAGESIZE): the unit of the rss field of /proc/<pid>/stat. */
  pageSize(): number;
  /** getrlimit(resource). */
  getResourceLimit(resource: ResourceName): ResourceLimit;
  /** setrlimit(resource) with this soft limit and the hard one unchanged; throws EINVAL past the hard limit, EPERM. */
  setSoftResourceLimit(resource: ResourceName, soft: number): void;
  /**
   * mallopt: fixes glibc's mmap and trim thresholds at 128 KiB, so large freed buffers go back to the kernel instead
   * of fragmenting the heap for good after a burst of sessions. Process-wide; false without glibc.
   */
  fixMallocThresholds(): boolean;
  /** flock(fd, LOCK_EX | LOCK_NB): false when another open file holds the lock; released when the fd closes. */
  flockExclusive(fd: number): boolean;
  /** A new pseudo-terminal of that size with a terminal emulator's default modes (UTF-8, echo, signals). */
  ptyOpen(cols: number, rows: number): PtyPair;
  /** TIOCSWINSZ: the kernel then sends SIGWINCH to the terminal's foreground process group. */
  ptyResize(fd: number, cols: number, rows: number): void;
  /**
   * Drains a pty master on the reader thread, up to `maxBufferedBytes` ahead of the JS thread, and calls back on the
   * event loop with everything gathered since the last call. `eof` comes once, after the last byte, when the terminal
   * is closed and drained (EIO); `error` is the errno name of a read that failed otherwise (the stream then ends too).
   */
  readOutput(fd: number, maxBufferedBytes: number, callback: (data: Buffer, eof: boolean, error: string | null) => void): OutputReader;
  /**
   * posix_spawn of `file` in its own session with `ttyPath` as controlling terminal and stdio, default signal
   * dispositions, no other fd. Returns the pid; throws with the errno of a failed chdir/open/exec (ENOENT...).
   */
  ptySpawn(file: string, argv: string[], env: string[], cwd: string, ttyPath: string): number;
  /** waitid(P_PIDFD, WNOHANG): null while the process runs; reaps it and returns its status once it ended. */
  waitidPidfd(pidfd: number): { exitCode: number | null; signal: number | null } | null;
  /** Calls `callback(readable, writable)` from the event loop while the started conditions hold (level-triggered). */
  watchFd(fd: number, callback: (readable: boolean, writable: boolean) => void): FdWatcher;
  /**
   * posix_spawn of a corral-holder (native/holder_spawn.c) with an empty environment, without waiting for it: its
   * stdin and stdout pipes (our ends, close-on-exec) and a pidfd (-1 if pidfd_open failed) are the caller's to close.
   * The caller writes the configuration and reads the report on its loop (holderLaunch.ts). The holder stays our
   * child, for the orphan reaper to collect once it exits (it is never registered as a direct child).
   */
  /**
   * posix_spawn on a worker thread (it blocks until the holder exec'd): the loop never waits for it. `fd` is the
   * daemon's end of the socket pair that is the holder's stdin and stdout.
   */
  holderSpawn(path: string, argv: string[]): Promise<{ pid: number; pidfd: number; fd: number }>;
}

// src/engine/process and dist/engine/process both sit three levels below the repo root.
const ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/corral_native.node', import.meta.url));

function load(): CorralNative {
  const require = createRequire(import.meta.url);
  try {
    return require(ADDON_PATH) as CorralNative;
  } catch (error) {
    // Only a missing build is expected here; say how to fix it instead of a bare dlopen message.
    if (error instanceof Error && 'code' in error && error.code === 'MODULE_NOT_FOUND') {
      throw new Error(`corral native addon not built at ${ADDON_PATH}; run "npm run build:native"`, { cause: error });
    }
    throw error;
  }
}

export const native: CorralNative = load();

/** The errno name an addon call failed with ('ESRCH', 'ECHILD'...), or undefined for other errors. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
