// Keeps the store's session rows in step with memory. A state change writes its event row at once and re-saves the
// session row once per tick however many transitions happened in it (an exec is two); counters and usage are
// re-saved at most every INFO_SAVE_INTERVAL_MS; a start is one commit; an end is saved at once. It decides nothing
// about a session, and after close() it writes no more (the store may be closed).

import type { StateEvent } from '../protocol/sessionTypes.js';
import type { EventLog, SessionRecords } from './ports.js';
import type { Session } from './Session.js';
import type { SessionRegistry } from './SessionRegistry.js';

/** Info of a live session is re-saved at most this often for counters and usage (state changes save at once). */
const INFO_SAVE_INTERVAL_MS = 2000;

export class SessionPersistence {
  /** Sessions whose state changed this tick (saved on the next one). */
  private readonly pending = new Set<string>();
  /** Live sessions whose counters, size or usage changed since the last periodic save. */
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly store: SessionRecords & EventLog,
    private readonly sessions: SessionRegistry,
  ) {}

  /** Starts the periodic save of changed info. */
  start(): void {
    this.timer = setInterval(() => this.saveDirty(), INFO_SAVE_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Every row a start writes (the session, its first events, the row again with the pid) in one commit. `announce`
   * runs after the first rows and before `start`; what `start` throws (a failed spawn) is rethrown after the commit.
   */
  recordStart(session: Session, announce: () => void, start: () => void): void {
    let startError: unknown = null;
    let failed = false;
    this.store.batch(() => {
      // The row first: events reference it.
      this.save(session);
      this.store.appendEvent(session.id, session.initialEvent());
      announce();
      try {
        start();
      } catch (error) {
        failed = true;
        startError = error;
      }
      this.save(session);
      this.pending.delete(session.id);
    });
    if (failed) throw startError;
  }

  /** A transition: its event row now (it is the record), the session row (which only mirrors it) next tick. */
  recordState(session: Session, event: StateEvent): void {
    this.store.appendEvent(session.id, event);
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

  /** Saves everything changed so far (before a read that must see it in the store). */
  flush(): void {
    this.flushPending();
    this.saveDirty();
  }

  /** Flushes what is left and writes no more. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    this.closed = true;
  }

  private save(session: Session): void {
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
    for (const id of this.dirty) {
      const session = this.sessions.findLive(id);
      if (session !== undefined) this.save(session);
    }
    this.dirty.clear();
  }
}
