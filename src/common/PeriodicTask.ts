// A periodic background task that can never take the process down. A daemon's timers (reaping zombies, sampling
// usage, saving info, applying retention) touch /proc, the disk and the store, so they meet EMFILE, ENOSPC, EIO and
// a locked database on a bad day; an exception thrown from a timer callback is uncaught and ends the process, and
// with it every session. Each run here is caught; the first failure of a kind is logged once (not every second),
// the task backs off exponentially while it keeps failing, and its health is there for `/healthz` and metrics.

import type { Disposable } from './lifecycle.js';

export interface TaskHealth {
  name: string;
  ok: boolean;
  /** Failed runs in a row (0 when the last run succeeded). */
  consecutiveFailures: number;
  /** Failed runs since start. */
  totalFailures: number;
  /** The latest failure's code (errno code or error name) and message, while failing. */
  lastError: { code: string; message: string; at: string } | null;
}

export type TaskLogger = (level: 'warn' | 'info', message: string, fields: Record<string, unknown>) => void;

export interface PeriodicTaskOptions {
  name: string;
  intervalMs: number;
  /** Longest delay between retries of a failing task (default: 30 × the interval, at most 60 s). */
  maxBackoffMs?: number;
  log: TaskLogger;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'UNKNOWN';
}

export class PeriodicTask implements Disposable {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private disposed = false;
  private consecutiveFailures = 0;
  private totalFailures = 0;
  private lastError: TaskHealth['lastError'] = null;
  /** Codes already logged during the current failing streak: each is logged once until the task recovers. */
  private readonly loggedCodes = new Set<string>();
  private readonly maxBackoffMs: number;

  constructor(
    private readonly options: PeriodicTaskOptions,
    private readonly run: () => void | Promise<void>,
  ) {
    this.maxBackoffMs = options.maxBackoffMs ?? Math.min(60_000, options.intervalMs * 30);
  }

  /** Schedules the first run one interval from now. Idempotent. */
  start(): this {
    if (this.timer === null && !this.disposed) this.schedule(this.options.intervalMs);
    return this;
  }

  /** Runs once now (outside the schedule); never throws. Resolves true when the run succeeded. */
  async runNow(): Promise<boolean> {
    if (this.running) return this.consecutiveFailures === 0;
    this.running = true;
    try {
      await this.run();
      this.succeeded();
      return true;
    } catch (error) {
      this.failed(error);
      return false;
    } finally {
      this.running = false;
    }
  }

  health(): TaskHealth {
    return {
      name: this.options.name,
      ok: this.consecutiveFailures === 0,
      consecutiveFailures: this.consecutiveFailures,
      totalFailures: this.totalFailures,
      lastError: this.lastError,
    };
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runNow().then(() => {
        if (!this.disposed) this.schedule(this.nextDelay());
      });
    }, delayMs);
    // A background task must never keep the process alive on its own.
    this.timer.unref();
  }

  /** The interval while healthy; doubling per failure in a row, up to the cap, while failing. */
  private nextDelay(): number {
    if (this.consecutiveFailures === 0) return this.options.intervalMs;
    return Math.min(this.maxBackoffMs, this.options.intervalMs * 2 ** Math.min(this.consecutiveFailures, 20));
  }

  private succeeded(): void {
    if (this.consecutiveFailures > 0) {
      this.options.log('info', `${this.options.name} recovered`, { task: this.options.name, failedRuns: this.consecutiveFailures });
    }
    this.consecutiveFailures = 0;
    this.lastError = null;
    this.loggedCodes.clear();
  }

  private failed(error: unknown): void {
    this.consecutiveFailures++;
    this.totalFailures++;
    const code = errorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = { code, message, at: new Date().toISOString() };
    if (!this.loggedCodes.has(code)) {
      this.loggedCodes.add(code);
      this.options.log('warn', `${this.options.name} failed; retrying with backoff`, { task: this.options.name, code, error: message });
    }
  }
}
