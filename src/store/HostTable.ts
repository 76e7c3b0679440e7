// The holders of live sessions (issue 14): one row per session run by a holder, saved when it starts and deleted once
// its end is recorded, so a restarting daemon finds each one again. It keeps a secret: the database is owner-only.

import type Database from 'better-sqlite3';
import type { StoredHost } from '../engine/ports.js';

export class HostTable {
  private readonly upsert: Database.Statement<[{ sessionId: string; body: string }]>;
  private readonly getOne: Database.Statement<[string], { body: string }>;
  private readonly deleteOne: Database.Statement<[string]>;
  private readonly getAll: Database.Statement<[], { body: string }>;

  constructor(db: Database.Database) {
    // INSERT … SELECT … WHERE EXISTS: a session already gone from the store gets no row (no foreign-key error).
    this.upsert = db.prepare(
      `INSERT INTO session_hosts (session_id, body) SELECT @sessionId, @body WHERE EXISTS (SELECT 1 FROM sessions WHERE id = @sessionId)
       ON CONFLICT (session_id) DO UPDATE SET body = excluded.body`,
    );
    this.getOne = db.prepare('SELECT body FROM session_hosts WHERE session_id = ?');
    this.deleteOne = db.prepare('DELETE FROM session_hosts WHERE session_id = ?');
    this.getAll = db.prepare('SELECT body FROM session_hosts');
  }

  /** Every row; trusted like get()'s. */
  list(): StoredHost[] {
    return this.getAll.all().map((row) => JSON.parse(row.body) as StoredHost);
  }

  save(host: StoredHost): void {
    this.upsert.run({ sessionId: host.sessionId, body: JSON.stringify(host) });
  }

  get(sessionId: string): StoredHost | undefined {
    const row = this.getOne.get(sessionId);
    // Written by save() from a typed StoredHost; the schema is ours, so it is trusted here (as sessions' info is).
    return row === undefined ? undefined : (JSON.parse(row.body) as StoredHost);
  }

  delete(sessionId: string): void {
    this.deleteOne.run(sessionId);
  }
}
