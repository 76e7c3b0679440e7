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

export interface CorralNative {
  /** prctl(PR_SET_CHILD_SUBREAPER): orphans of our descendants are re-parented to us, not to PID 1. */
  setChildSubreaper(): void;
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
