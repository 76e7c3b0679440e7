// The engine's background writes to the store (session rows, state events, command history), which the store may
// refuse for a while: a full disk (STORAGE_FULL) or another process holding its lock (STORE_BUSY). Each write is
// tried once at once; a refused one is kept, in order, and retried off the request path by a guarded periodic task
// until the store takes it. It never waits on the store beyond the store's own short busy timeout, and never drops
// a write without counting and logging it.

import { PeriodicTask, type TaskHealth } from '../common/PeriodicTask.js';
import type { Disposable } from '../common/lifecycle.js';
import { isCorralError } from '../protocol/errors.js';
import type { StorageProblem } from '../protocol/sessionTypes.js';
import type { EngineLogger } from './engineLogger.js';
import type { SessionRecords } from './ports.js';

/**
 * Writes kept while the store refuses them. A session row is one entry however often it is re-saved (the newest
 * replaces the queued one), so this holds mostly state events and commands: at ~300 bytes each, 10,000 is ~3 MB,
 * hours of normal activity of every session. Past it the oldest write is given up (counted in `dropped`, logged).
 */
export const MAX_QUEUED_WRITES = 10_000;
/** How often a refused write is retried while the store keeps refusing (doubling up to MAX_RETRY_BACKOFF_MS). */
const RETRY_INTERVAL_MS = 1_000;
/** A full disk freed at last is noticed within this; each retry costs at most one busy timeout of the event loop. */
const MAX_RETRY_BACKOFF_MS = 10_000;
/** Writes committed per retry transaction: one commit for many rows, short enough not to stall the event loop. */
const RETRY_BATCH_WRITES = 500;
/** Transactions per retry run: a long backlog drains over several runs (a second apart), never in one long stall. */
const RETRY_BATCHES_PER_RUN = 4;

export interface StoreWrite {
  /** Writes with the same key replace each other while queued (a session row saved again): only the newest is kept. */
  key: string | null;
  /** The session the write belongs to, for its info's `storage`; null for none. */
  sessionId: string | null;
  run: () => void;
}

/** What `/healthz` says about the store. */
export interface StorageHealth {
  ok: boolean;
  /** The store was opened read-only (a full disk at start): nothing is recorded until a restart with space. */
  readOnly: boolean;
  /** Why writes are waiting: the store's latest refusal; null when everything is stored. */
  problem: StorageProblem | null;
  /** Writes waiting for the store. */
  queued: number;
  /** Writes given up since start because the queue was full: records that will never reach the store. */
  dropped: number;
}

/** STORAGE_FULL or STORE_BUSY: the store refused for now; anything else is a bug and propagates. */
export function isStoreRefusal(error: unknown): error is { code: StorageProblem['code']; message: string } {
  return isCorralError(error) && (error.code === 'STORAGE_FULL' || error.code === 'STORE_BUSY');
}

export class StoreWriter implements Disposable {
  private readonly queue: StoreWrite[] = [];
  private readonly byKey = new Map<string, StoreWrite>();
  private readonly queuedPerSession = new Map<string, number>();
  private problem: StorageProblem | null = null;
  private dropped = 0;
  /** Inside `atomic`: a refusal propagates to the transaction's owner instead of being queued. */
  private atomicDepth = 0;
  private readonly retry: PeriodicTask;

  constructor(
    /** Only commits and the read-only flag: each write brings its own store call. */
    private readonly store: Pick<SessionRecords, 'batch' | 'readOnly'>,
    private readonly log: EngineLogger,
  ) {
    this.retry = new PeriodicTask(
      { name: 'store write retry', intervalMs: RETRY_INTERVAL_MS, maxBackoffMs: MAX_RETRY_BACKOFF_MS, log },
      () => this.drain(),
    );
    // A read-only store refuses everything from the start; say so before the first write finds out.
    if (store.readOnly !== null) this.problem = { code: 'STORAGE_FULL', message: store.readOnly.message, since: new Date().toISOString() };
  }

  start(): void {
    this.retry.start();
  }

  /** Writes now, or queues the write when the store refuses it (or already has writes waiting, which go first). */
  write(write: StoreWrite): void {
    if (this.atomicDepth > 0 || this.queue.length === 0) {
      try {
        write.run();
        return;
      } catch (error) {
        if (this.atomicDepth > 0 || !isStoreRefusal(error)) throw error;
        this.noteRefusal(error);
      }
    }
    this.enqueue(write);
  }

  /**
   * Runs `fn` as one store commit whose refusal is the caller's to handle (a create answers it): writes made
   * inside are never queued.
   */
  atomic<T>(fn: () => T): T {
    this.atomicDepth++;
    try {
      return this.store.batch(fn);
    } finally {
      this.atomicDepth--;
    }
  }

  /** Queued writes of one session (its info says they are not stored yet). */
  queuedFor(sessionId: string): number {
    return this.queuedPerSession.get(sessionId) ?? 0;
  }

  /** The store's current refusal, while writes wait. */
  get currentProblem(): StorageProblem | null {
    return this.problem;
  }

  health(): StorageHealth {
    return { ok: this.problem === null, readOnly: this.store.readOnly !== null, problem: this.problem, queued: this.queue.length, dropped: this.dropped };
  }

  /** The retry task's own health (with the engine's other background tasks). */
  retryHealth(): TaskHealth {
    return this.retry.health();
  }

  /** One last attempt (at shutdown); answers how many writes stay unstored. */
  async flushNow(): Promise<number> {
    await this.retry.runNow();
    return this.queue.length;
  }

  dispose(): void {
    this.retry.dispose();
  }

  private enqueue(write: StoreWrite): void {
    if (write.key !== null) {
      const queued = this.byKey.get(write.key);
      if (queued !== undefined) {
        // Keep its place (rows before the events that reference them), write the newest content.
        queued.run = write.run;
        return;
      }
      this.byKey.set(write.key, write);
    }
    this.queue.push(write);
    this.countFor(write, 1);
    if (this.queue.length > MAX_QUEUED_WRITES) {
      const oldest = this.queue.shift();
      if (oldest !== undefined) this.forget(oldest);
      this.dropped++;
      // Once per power of two, not per write: a disk full for hours must not flood the log too.
      if ((this.dropped & (this.dropped - 1)) === 0) {
        this.log('error', 'the store has refused writes for too long; the oldest queued records are given up', {
          dropped: this.dropped,
          queued: this.queue.length,
          problem: this.problem?.code,
        });
      }
    }
  }

  /** The periodic retry: commits what waits in batches; throws the refusal so the task backs off and reports it. */
  private drain(): void {
    for (let batches = 0; this.queue.length > 0; batches++) {
      if (batches === RETRY_BATCHES_PER_RUN) return;
      const chunk = this.queue.slice(0, RETRY_BATCH_WRITES);
      try {
        this.store.batch(() => {
          for (const write of chunk) write.run();
        });
      } catch (error) {
        if (isStoreRefusal(error)) {
          this.noteRefusal(error);
          throw error;
        }
        // Not the store refusing: one write of the batch is wrong. Write them one by one, dropping only that one.
        this.runOneByOne(chunk);
      }
      this.queue.splice(0, chunk.length);
      for (const write of chunk) this.forget(write);
    }
    if (this.problem !== null && this.store.readOnly === null) {
      this.log('info', 'the store takes writes again; every queued record is stored', { problem: this.problem.code });
      this.problem = null;
    }
  }

  private runOneByOne(chunk: StoreWrite[]): void {
    for (const write of chunk) {
      try {
        write.run();
      } catch (error) {
        if (isStoreRefusal(error)) {
          this.noteRefusal(error);
          // The ones written so far are stored and leave the queue; the rest wait for the next retry.
          const done = chunk.indexOf(write);
          this.queue.splice(0, done);
          for (const stored of chunk.slice(0, done)) this.forget(stored);
          throw error;
        }
        this.dropped++;
        this.log('error', 'a queued store write failed and was given up', { session: write.sessionId, error: (error as Error).message });
      }
    }
  }

  private noteRefusal(error: { code: StorageProblem['code']; message: string }): void {
    if (this.problem?.code === error.code) return;
    if (this.problem === null) this.log('warn', 'the store refuses writes; keeping them in memory and retrying', { code: error.code, error: error.message });
    this.problem = { code: error.code, message: error.message, since: new Date().toISOString() };
  }

  private forget(write: StoreWrite): void {
    if (write.key !== null && this.byKey.get(write.key) === write) this.byKey.delete(write.key);
    this.countFor(write, -1);
  }

  private countFor(write: StoreWrite, delta: number): void {
    if (write.sessionId === null) return;
    const count = (this.queuedPerSession.get(write.sessionId) ?? 0) + delta;
    if (count <= 0) this.queuedPerSession.delete(write.sessionId);
    else this.queuedPerSession.set(write.sessionId, count);
  }
}
