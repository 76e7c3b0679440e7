// Keeps the store's session rows in step with memory. A state change writes its event row at once and re-saves the
// session row once per tick however many transitions happened in it (an exec is two); counters and usage are
// re-saved at most every INFO_SAVE_INTERVAL_MS; a start is one commit, and the only write whose refusal the caller
// sees (a create must fail whole); an end is saved at once. Every other write goes through the StoreWriter, which
// keeps and retries what the store refuses. It decides nothing about a session, and after close() it writes no more.

import { PeriodicTask, type TaskHealth } from '../common/PeriodicTask.js';
import type { StateEvent } from '../protocol/sessionTypes.js';
import type { EngineLogger } from './engineLogger.js';
import type { EventLog, SessionRecords } from './ports.js';
import type { Session } from './Session.js';
import type { SessionRegistry } from './SessionRegistry.js';
import type { StoreWriter } from './StoreWriter.js';

/** Info of a live session is re-saved at most this often for counters and usage (state changes save at once). */
const INFO_SAVE_INTERVAL_MS = 2000;

export class SessionPersistence {
  /** Sessions whose state changed this tick (saved on the next one). */
  private readonly pending = new Set<string>();
  /** Live sessions whose counters, size or usage changed since the last periodic save. */
  private readonly dirty = new Set<string>();
  private readonly periodicSave: PeriodicTask;
  private closed = false;

  constructor(
    private readonly store: SessionRecords & EventLog,
    private readonly sessions: SessionRegistry,
    private readonly writer: StoreWriter,
    log: EngineLogger,
  ) {
    this.periodicSave = new PeriodicTask({ name: 'session info save', intervalMs: INFO_SAVE_INTERVAL_MS, log }, () => this.saveDirty());
  }

  /** Starts the periodic save of changed info. */
  start(): void {
    this.periodicSave.start();
  }

  health(): TaskHealth {
    return this.periodicSave.health();
  }

  /**
   * Every row a start writes (the session, its first events, the row again with the pid) in one commit. `announce`
   * runs after the first rows and before `start`; what `start` throws (a failed spawn) is rethrown after the commit.
   * A commit the store refuses (STORAGE_FULL, STORE_BUSY) throws that refusal, and nothing of the start is stored.
   */
  recordStart(session: Session, announce: () => void, start: () => void): void {
    let startError: unknown = null;
    let failed = false;
    this.writer.atomic(() => {
      // The row first: events reference it.
      this.saveNow(session);
      this.store.appendEvent(session.id, session.initialEvent());
      announce();
      try {
        start();
      } catch (error) {
        failed = true;
        startError = error;
      }
      this.saveNow(session);
    });
    this.pending.delete(session.id);
    if (failed) throw startError;
  }

  /** A start whose commit was refused: forget what was scheduled for the session (its row never existed). */
  forget(id: string): void {
    this.pending.delete(id);
    this.dirty.delete(id);
  }

  /** A transition: its event row now (it is the record), the session row (which only mirrors it) next tick. */
  recordState(session: Session, event: StateEvent): void {
    this.writer.write({ key: null, sessionId: session.id, run: () => this.store.appendEvent(session.id, event) });
    if (this.pending.size === 0) setImmediate(() => this.flushPending());
    this.pending.add(session.id);
  }

  /** Something shown in the info changed (counters, size, usage): saved with the next periodic save. */
  markDirty(id: string): void {
    this.dirty.add(id);
  }

  /** The session ended: its final row now. */
  recordEnd(session: Session): void {
    this.dirty.delete(session.id);
    this.save(session);
    // Saved final: a re-save scheduled by the last transition this tick would write the same row again.
    this.pending.delete(session.id);
  }

  /** Saves everything changed so far (before a read that must see it in the store); refused writes stay queued. */
  flush(): void {
    this.flushPending();
    this.saveDirty();
  }

  /** Flushes what is left and writes no more. */
  close(): void {
    this.periodicSave.dispose();
    this.flush();
    this.closed = true;
  }

  /** Queued through the writer: a refusal keeps the row (written from memory when retried). */
  private save(session: Session): void {
    this.writer.write({ key: `session:${session.id}`, sessionId: session.id, run: () => this.saveNow(session) });
  }

  private saveNow(session: Session): void {
    const identity = session.identity;
    this.store.saveSession({
      info: session.toInfo(),
      runtime: { pid: identity?.pid ?? null, pidStartTime: identity?.startTime ?? null, pgid: identity?.pid ?? null },
    });
  }

  private flushPending(): void {
    // After close the store may be closed; close itself flushed what was pending.
    if (this.closed) {
      this.pending.clear();
      return;
    }
    for (const id of this.pending) {
      const session = this.sessions.find(id);
      if (session !== undefined) this.save(session);
    }
    this.pending.clear();
  }

  private saveDirty(): void {
    if (this.closed) return;
    for (const id of this.dirty) {
      const session = this.sessions.findLive(id);
      if (session !== undefined) this.save(session);
    }
    this.dirty.clear();
  }
}
