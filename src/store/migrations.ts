// Schema of the embedded store, as an ordered list of migrations counted by SQLite's `user_version`.
// Never edit a migration that has shipped: append a new one, so every existing database upgrades the same way.

import type Database from 'better-sqlite3';

/** Each entry moves the schema from version (index) to version (index + 1). */
export const MIGRATIONS: readonly string[] = [
  // 1: sessions, state events, command history, templates, macros, webhooks.
  `
  CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    task_id        TEXT,
    profile        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    ended_at       TEXT,
    pid            INTEGER,
    pid_start_time INTEGER,
    pgid           INTEGER,
    info           TEXT NOT NULL
  ) STRICT;
  CREATE INDEX sessions_by_created ON sessions (created_at, id);
  CREATE INDEX sessions_by_state ON sessions (state, created_at, id);
  CREATE INDEX sessions_by_task ON sessions (task_id, created_at, id) WHERE task_id IS NOT NULL;
  CREATE INDEX sessions_by_profile ON sessions (profile, created_at, id);
  CREATE INDEX sessions_by_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;

  CREATE TABLE state_events (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    at         TEXT NOT NULL,
    reason     TEXT NOT NULL,
    source     TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE commands (
    session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('exec', 'prompt', 'input')),
    text         TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    exit_code    INTEGER,
    cwd          TEXT,
    output_start INTEGER NOT NULL,
    output_end   INTEGER,
    timed_out    INTEGER NOT NULL CHECK (timed_out IN (0, 1)),
    duration_ms  INTEGER,
    PRIMARY KEY (session_id, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE templates (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE macros (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE webhook_deliveries (
    id         INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    status     INTEGER,
    error      TEXT,
    at         TEXT NOT NULL
  ) STRICT;
  CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
  `,
  // 2: holders of live sessions (issue 14): where each holder is, its secret and the spec a reattach rebuilds.
  `
  CREATE TABLE session_hosts (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    body       TEXT NOT NULL
  ) STRICT;
  `,
  // 3: dashboard logins (issue 14): a browser stays logged in across a daemon restart. Only a hash of the cookie.
  `
  CREATE TABLE dashboard_logins (
    id_hash    TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 4: the event log (issue 14): every SSE/webhook event, written before it is sent, so a client resuming with
  // Last-Event-ID after a restart (kill -9 included) gets what it missed. Bounded: the newest events only.
  `
  CREATE TABLE event_log (
    seq  INTEGER PRIMARY KEY,
    boot TEXT NOT NULL,
    body TEXT NOT NULL
  ) STRICT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION. Runs under BEGIN IMMEDIATE and reads `user_version` inside it, so two
 * daemons opening the same fresh file cannot both apply a migration. Refuses a database from a newer Corral.
 */
export function migrate(db: Database.Database): void {
  const apply = db.transaction(() => {
    const current = readUserVersion(db);
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `The store's schema version ${current} is newer than this Corral understands (${SCHEMA_VERSION}); ` +
          'upgrade Corral or use another --data-dir.',
      );
    }
    for (let version = current; version < SCHEMA_VERSION; version++) {
      const sql = MIGRATIONS[version];
      if (sql === undefined) throw new Error(`Missing migration ${version + 1}`);
      db.exec(sql);
      // PRAGMA takes no bound parameters; the value is our own integer.
      db.pragma(`user_version = ${version + 1}`);
    }
  });
  apply.immediate();
}

export function readUserVersion(db: Database.Database): number {
  const value = db.pragma('user_version', { simple: true });
  if (typeof value !== 'number') throw new Error(`Unexpected user_version ${String(value)}`);
  return value;
}
