// Dashboard logins (issue 14): one row per browser session, so a daemon restart does not log every browser out.
// Holds only a hash of the cookie's value (never the cookie, never the API token) and the expiry.

import type Database from 'better-sqlite3';

/** A login as stored (the dashboard face's LoginStore takes the same shape; the store imports no face). */
export interface StoredLogin {
  /** sha256 (base64url) of the cookie's value. */
  idHash: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export class LoginTable {
  private readonly insert: Database.Statement<[{ idHash: string; expiresAt: number }]>;
  private readonly deleteOne: Database.Statement<[string]>;
  private readonly deleteExpired: Database.Statement<[number]>;
  private readonly listLive: Database.Statement<[number], { id_hash: string; expires_at: number }>;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      'INSERT INTO dashboard_logins (id_hash, expires_at) VALUES (@idHash, @expiresAt) ON CONFLICT (id_hash) DO UPDATE SET expires_at = excluded.expires_at',
    );
    this.deleteOne = db.prepare('DELETE FROM dashboard_logins WHERE id_hash = ?');
    this.deleteExpired = db.prepare('DELETE FROM dashboard_logins WHERE expires_at <= ?');
    this.listLive = db.prepare('SELECT id_hash, expires_at FROM dashboard_logins WHERE expires_at > ? ORDER BY expires_at');
  }

  save(login: StoredLogin): void {
    this.insert.run(login);
  }

  delete(idHash: string): void {
    this.deleteOne.run(idHash);
  }

  /** The logins not expired at `now`, oldest first. A read only: a read-only store (full disk) still answers it. */
  live(now: number): StoredLogin[] {
    return this.listLive.all(now).map((row) => ({ idHash: row.id_hash, expiresAt: row.expires_at }));
  }

  /** Deletes the expired ones (they are never answered by live(); this only keeps the table small). */
  dropExpired(now: number): void {
    this.deleteExpired.run(now);
  }
}
