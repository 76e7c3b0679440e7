// Issue 15: no timer or callback anywhere may take the daemon down. An uncaught exception or an unhandled rejection
// is a bug, but ending the daemon for it ends every face (REST, WebSocket, MCP, the dashboard) and every session it
// runs itself, while the rest of the daemon is almost always still sound (one timer's callback failed, not the
// loop). So it is logged with its stack (the first of each kind; later ones are counted), counted in `/healthz`
// (the task "uncaught errors", which then reads degraded) and the metrics (corral_background_task_failures_total),
// and the daemon runs on.
//
// Fatal only where hiding it would hide a bug: under CORRAL_FATAL_FAULTS=1 (the test runner sets it, so a test
// whose daemon meets one still fails) the daemon exits 70 after logging it. Nothing here is treated as unrecoverable
// otherwise: what truly is (out of memory, a native crash) never reaches JavaScript, and a fault during shutdown only
// makes the shutdown's own deadline (exitOnceDrained) the one that ends the process.

import { toDisposable, type Disposable } from '../common/lifecycle.js';
import type { TaskHealth } from '../common/PeriodicTask.js';

export const FATAL_FAULTS_ENV = 'CORRAL_FATAL_FAULTS';

/** EX_SOFTWARE: an internal software error (sysexits.h). */
const FATAL_EXIT_CODE = 70;

/** The task name `/healthz` and the metrics show. */
export const FAULTS_TASK = 'uncaught errors';

type FaultKind = 'uncaught exception' | 'unhandled rejection';

export type FaultLogger = (fields: Record<string, unknown>, message: string) => void;

export class ProcessFaults {
  private total = 0;
  private last: TaskHealth['lastError'] = null;
  /** Kinds already logged in full: a fault that repeats on a timer must not flood the log. */
  private readonly logged = new Set<string>();

  constructor(
    private readonly log: FaultLogger,
    private readonly fatal: boolean = process.env[FATAL_FAULTS_ENV] === '1',
  ) {}

  /** Catches both for the whole process until disposed. */
  install(): Disposable {
    const onException = (error: unknown): void => this.fault('uncaught exception', error);
    const onRejection = (reason: unknown): void => this.fault('unhandled rejection', reason);
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    return toDisposable(() => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    });
  }

  health(): TaskHealth {
    return { name: FAULTS_TASK, ok: this.total === 0, consecutiveFailures: this.total, totalFailures: this.total, lastError: this.last };
  }

  private fault(kind: FaultKind, thrown: unknown): void {
    this.total++;
    const error = thrown instanceof Error ? thrown : new Error(`a non-Error was thrown: ${String(thrown)}`);
    const code = typeof (error as NodeJS.ErrnoException).code === 'string' ? String((error as NodeJS.ErrnoException).code) : error.name;
    this.last = { code, message: error.message, at: new Date().toISOString() };
    // The kind, the code and where it was thrown: the same bug on every tick is one kind.
    const where = error.stack?.split('\n').find((line) => line.trimStart().startsWith('at ')) ?? '';
    const key = `${kind}|${code}|${where.trim()}`;
    if (this.fatal) {
      this.log({ kind, code, error: error.message, stack: error.stack }, `${kind}: exiting (${FATAL_FAULTS_ENV}=1)`);
      process.stderr.write(`corral: ${kind}: ${error.stack ?? error.message}\n`);
      process.exit(FATAL_EXIT_CODE);
    }
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log({ kind, code, error: error.message, stack: error.stack, total: this.total }, `${kind}: the daemon runs on (later ones of this kind are only counted in /healthz)`);
  }
}
