// The event log (issue 14): the daemon's numbered events (SSE `/api/v1/events`, webhooks), one row each, written
// before the event is sent, so a client resuming with Last-Event-ID after a restart — a kill -9 included — gets
// what it missed. `seq` runs on across daemon runs; `boot` is the run that numbered the row, so an id whose event
// never reached the log (a refused write) is told apart from the row that later took its seq. Only the newest
// rows are kept (the event hub prunes): it is a resume window, not a history.

import type Database from 'better-sqlite3';

/** One logged event: its seq, the run that numbered it, and the event as JSON (the face's HubEvent). */
export interface LoggedEvent {
  seq: number;
  boot: string;
  body: string;
}

export class EventLogTable {
  private readonly insert: Database.Statement<[LoggedEvent]>;
  private readonly newest: Database.Statement<[number], LoggedEvent>;
  private readonly prune: Database.Statement<[number]>;
  private readonly appendAll: (events: readonly LoggedEvent[]) => void;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO event_log (seq, boot, body) VALUES (@seq, @boot, @body)');
    this.newest = db.prepare('SELECT seq, boot, body FROM event_log ORDER BY seq DESC LIMIT ?');
    this.prune = db.prepare('DELETE FROM event_log WHERE seq <= ?');
    this.appendAll = db.transaction((events: readonly LoggedEvent[]) => {
      for (const event of events) this.insert.run(event);
    });
  }

  /** All or none, in one transaction (one commit for a burst of events). */
  append(events: readonly LoggedEvent[]): void {
    this.appendAll(events);
  }

  /** The newest `limit` events, oldest first. */
  recent(limit: number): LoggedEvent[] {
    return this.newest.all(limit).reverse();
  }

  /** Drops every event numbered `seq` or lower. */
  dropUpTo(seq: number): void {
    this.prune.run(seq);
  }
}
