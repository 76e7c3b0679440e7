// The embedded store: sessions, state events, command history, templates, macros and webhooks in SQLite
// (<dataDir>/corral.db). It only persists and reads back; it never decides session state and never keeps output.

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CorralError } from '../protocol/errors.js';
import type { SessionInfo, SessionState, StateEvent, StateSource } from '../protocol/sessionTypes.js';
import type { CommandKind, CommandRecord } from '../protocol/commandHistory.js';
import { migrate, readUserVersion, SCHEMA_VERSION } from './migrations.js';
import { isDiskFullError, translateStoreError, type ReadOnlyReason } from './storeErrors.js';
import { HostTable } from './HostTable.js';
import { LoginTable, type StoredLogin } from './LoginTable.js';
import { EventLogTable, type LoggedEvent } from './EventLogTable.js';
import type { EngineStore, StoredHost } from '../engine/ports.js';
import { decodeSessionCursor, encodeSessionCursor } from '../protocol/sessionCursor.js';

export type { ReadOnlyReason };
import type {
  CommandFinish,
  DeliveryRecord,
  ListSessionsQuery,
  NamedBody,
  SeqPageQuery,
  SessionPage,
  StoredSession,
  WebhookRecord,
} from './storeTypes.js';

export const DB_FILE_NAME = 'corral.db';

/**
 * How long a write waits for another connection's lock before failing with SQLITE_BUSY. The store is synchronous on
 * the daemon's one event loop, so every millisecond here stalls every request and every session's output: 10 ms
 * rides out a short writer (our own writes are single rows or small batches, well under that) and beyond it the
 * engine retries off the request path and the API answers STORE_BUSY (issue 15: a 5 s wait froze `/healthz`).
 */
export const BUSY_TIMEOUT_MS = 10;

/** Most rows one list call returns: a page a client can render and we can serialise without a noticeable pause. */
export const MAX_PAGE_LIMIT = 1_000;

/** Delivery attempts kept per webhook: enough to debug a flaky receiver, small enough that a dead one cannot grow the file. */
export const MAX_DELIVERIES_PER_WEBHOOK = 1_000;

/** Owner-only: the database holds webhook secrets and the commands users ran. */
const DATA_DIR_MODE = 0o700;
const DB_FILE_MODE = 0o600;

export interface StoreOptions {
  /** Clock for createdAt/updatedAt of templates and macros (tests pin it). */
  now?: () => Date;
  /** Open read-only from the start (the daemon found the disk full): every write is refused with this reason. */
  readOnly?: ReadOnlyReason;
}


interface SessionRow {
  id: string;
  pid: number | null;
  pid_start_time: number | null;
  pgid: number | null;
  info: string;
}

interface EventRow {
  seq: number;
  from_state: string | null;
  to_state: string;
  at: string;
  reason: string;
  source: string;
}

interface CommandRow {
  session_id: string;
  seq: number;
  kind: string;
  text: string;
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  cwd: string | null;
  output_start: number;
  output_end: number | null;
  timed_out: number;
  duration_ms: number | null;
}

interface NamedRow {
  name: string;
  body: string;
  created_at: string;
  updated_at: string;
}

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  secret: string;
  created_at: string;
}

interface DeliveryRow {
  webhook_id: string;
  event_id: string;
  attempt: number;
  status: number | null;
  error: string | null;
  at: string;
}

interface SessionListParams {
  state: string | null;
  taskId: string | null;
  profile: string | null;
  live: number | null;
  cursorAt: string | null;
  cursorId: string | null;
  limit: number;
}

/** CRUD for a name → JSON body table (templates and macros share the shape). */
class NamedBodyTable {
  private readonly upsert: Database.Statement<[{ name: string; body: string; now: string }], NamedRow>;
  private readonly getOne: Database.Statement<[string], NamedRow>;
  private readonly listAll: Database.Statement<[], NamedRow>;
  private readonly deleteOne: Database.Statement<[string]>;

  constructor(db: Database.Database, table: 'templates' | 'macros') {
    this.upsert = db.prepare(
      `INSERT INTO ${table} (name, body, created_at, updated_at) VALUES (@name, @body, @now, @now)
       ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at
       RETURNING name, body, created_at, updated_at`,
    );
    this.getOne = db.prepare(`SELECT name, body, created_at, updated_at FROM ${table} WHERE name = ?`);
    this.listAll = db.prepare(`SELECT name, body, created_at, updated_at FROM ${table} ORDER BY name`);
    this.deleteOne = db.prepare(`DELETE FROM ${table} WHERE name = ?`);
  }

  put(name: string, body: unknown, now: string): NamedBody {
    const json = JSON.stringify(body);
    if (json === undefined) throw new CorralError('VALIDATION_FAILED', `The body of "${name}" is not JSON data.`);
    const row = this.upsert.get({ name, body: json, now });
    if (row === undefined) throw new Error(`Upsert of "${name}" returned no row`);
    return namedFromRow(row);
  }

  get(name: string): NamedBody | undefined {
    const row = this.getOne.get(name);
    return row === undefined ? undefined : namedFromRow(row);
  }

  list(): NamedBody[] {
    return this.listAll.all().map(namedFromRow);
  }

  delete(name: string): boolean {
    return this.deleteOne.run(name).changes > 0;
  }
}

export class Store implements EngineStore {
  private readonly db: Database.Database;
  private readonly now: () => Date;
  private readonly templates: NamedBodyTable;
  private readonly macros: NamedBodyTable;
  private readonly hosts: HostTable;
  private readonly logins: LoginTable;
  private readonly eventLog: EventLogTable;

  private readonly upsertSession: Database.Statement<[Record<string, string | number | null>]>;
  private readonly getSessionStmt: Database.Statement<[string], SessionRow>;
  private readonly listSessionsStmt: Database.Statement<[SessionListParams], SessionRow & { created_at: string }>;
  private readonly listLiveStmt: Database.Statement<[], SessionRow>;
  private readonly deleteEndedStmt: Database.Statement<[string]>;
  private readonly deleteOneEndedStmt: Database.Statement<[string]>;
  private readonly listEndedIdsStmt: Database.Statement<[string, number], { id: string }>;

  private readonly insertEvent: Database.Statement<[Record<string, string | number | null>]>;
  private readonly listEventsStmt: Database.Statement<[string, number, number], EventRow>;
  private readonly lastEventStmt: Database.Statement<[string], EventRow>;
  private readonly lastEventsOfLiveStmt: Database.Statement<[], EventRow & { session_id: string }>;

  private readonly insertCommand: Database.Statement<[Record<string, string | number | null>]>;
  private readonly finishCommandStmt: Database.Statement<[Record<string, string | number | null>]>;
  private readonly listCommandsStmt: Database.Statement<[string, number, number], CommandRow>;
  private readonly lastCommandSeqStmt: Database.Statement<[string], { last: number | null }>;

  private readonly upsertWebhook: Database.Statement<[WebhookRow]>;
  private readonly listWebhooksStmt: Database.Statement<[], WebhookRow>;
  private readonly getWebhookStmt: Database.Statement<[string], WebhookRow>;
  private readonly deleteWebhookStmt: Database.Statement<[string]>;
  private readonly insertDelivery: Database.Statement<[Record<string, string | number | null>]>;
  private readonly pruneDeliveries: Database.Statement<[string, string, number]>;
  private readonly listDeliveriesStmt: Database.Statement<[string, number], DeliveryRow>;
  private readonly recordDeliveryTx: (rec: DeliveryRecord) => boolean;

  /** Set when `open` fell back to read-only because the disk was full: why every write is refused. */
  readonly readOnly: ReadOnlyReason | null;

  private constructor(db: Database.Database, options: StoreOptions, readOnly: ReadOnlyReason | null = null) {
    this.db = db;
    this.readOnly = readOnly;
    this.now = options.now ?? (() => new Date());
    this.templates = new NamedBodyTable(db, 'templates');
    this.macros = new NamedBodyTable(db, 'macros');
    this.hosts = new HostTable(db);
    this.logins = new LoginTable(db);
    this.eventLog = new EventLogTable(db);

    this.upsertSession = db.prepare(
      `INSERT INTO sessions (id, state, task_id, profile, created_at, ended_at, pid, pid_start_time, pgid, info)
       VALUES (@id, @state, @taskId, @profile, @createdAt, @endedAt, @pid, @pidStartTime, @pgid, @info)
       ON CONFLICT (id) DO UPDATE SET
         state = excluded.state, task_id = excluded.task_id, profile = excluded.profile,
         created_at = excluded.created_at, ended_at = excluded.ended_at, pid = excluded.pid,
         pid_start_time = excluded.pid_start_time, pgid = excluded.pgid, info = excluded.info`,
    );
    this.getSessionStmt = db.prepare('SELECT id, pid, pid_start_time, pgid, info FROM sessions WHERE id = ?');
    // One statement for every filter combination (a NULL parameter disables its filter). The keyset condition on
    // (created_at, id) keeps pages stable while sessions are added: a new session sorts before every cursor.
    this.listSessionsStmt = db.prepare(
      `SELECT id, pid, pid_start_time, pgid, info, created_at FROM sessions
       WHERE (@state IS NULL OR state = @state)
         AND (@taskId IS NULL OR task_id = @taskId)
         AND (@profile IS NULL OR profile = @profile)
         AND (@live IS NULL OR (@live = 1 AND state <> 'terminated') OR (@live = 0 AND state = 'terminated'))
         AND (@cursorAt IS NULL OR created_at < @cursorAt OR (created_at = @cursorAt AND id < @cursorId))
       ORDER BY created_at DESC, id DESC
       LIMIT @limit`,
    );
    this.listLiveStmt = db.prepare(
      `SELECT id, pid, pid_start_time, pgid, info FROM sessions WHERE state <> 'terminated' ORDER BY created_at, id`,
    );
    this.deleteOneEndedStmt = db.prepare(`DELETE FROM sessions WHERE id = ? AND state = 'terminated'`);
    this.deleteEndedStmt = db.prepare(
      `DELETE FROM sessions WHERE state = 'terminated' AND ended_at IS NOT NULL AND ended_at < ?`,
    );
    this.listEndedIdsStmt = db.prepare(
      `SELECT id FROM sessions WHERE state = 'terminated' AND ended_at IS NOT NULL AND ended_at < ?
       ORDER BY ended_at, id LIMIT ?`,
    );

    // INSERT … SELECT … WHERE EXISTS: an unknown session inserts nothing (the caller gets false) instead of a
    // foreign-key error, in one statement so no other connection can delete the session in between.
    this.insertEvent = db.prepare(
      `INSERT INTO state_events (session_id, seq, from_state, to_state, at, reason, source)
       SELECT @sessionId, @seq, @from, @to, @at, @reason, @source
       WHERE EXISTS (SELECT 1 FROM sessions WHERE id = @sessionId)`,
    );
    this.listEventsStmt = db.prepare(
      `SELECT seq, from_state, to_state, at, reason, source FROM state_events
       WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    // Both walk the (session_id, seq) primary key backwards: one row per session, whatever its history's length.
    this.lastEventStmt = db.prepare(
      `SELECT seq, from_state, to_state, at, reason, source FROM state_events WHERE session_id = ? ORDER BY seq DESC LIMIT 1`,
    );
    this.lastEventsOfLiveStmt = db.prepare(
      `SELECT e.session_id, e.seq, e.from_state, e.to_state, e.at, e.reason, e.source
       FROM sessions s JOIN state_events e ON e.session_id = s.id
        AND e.seq = (SELECT MAX(seq) FROM state_events WHERE session_id = s.id)
       WHERE s.state <> 'terminated'`,
    );

    this.insertCommand = db.prepare(
      `INSERT INTO commands (session_id, seq, kind, text, started_at, ended_at, exit_code, cwd, output_start,
                             output_end, timed_out, duration_ms)
       SELECT @sessionId, @seq, @kind, @text, @startedAt, @endedAt, @exitCode, @cwd, @outputStart,
              @outputEnd, @timedOut, @durationMs
       WHERE EXISTS (SELECT 1 FROM sessions WHERE id = @sessionId)`,
    );
    this.finishCommandStmt = db.prepare(
      `UPDATE commands SET ended_at = @endedAt, exit_code = @exitCode,
         cwd = CASE WHEN @keepCwd = 1 THEN cwd ELSE @cwd END,
         output_end = @outputEnd, timed_out = @timedOut, duration_ms = @durationMs
       WHERE session_id = @sessionId AND seq = @seq`,
    );
    this.listCommandsStmt = db.prepare(
      `SELECT * FROM commands WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.lastCommandSeqStmt = db.prepare('SELECT MAX(seq) AS last FROM commands WHERE session_id = ?');

    this.upsertWebhook = db.prepare(
      `INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (@id, @url, @events, @secret, @created_at)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, secret = excluded.secret`,
    );
    this.listWebhooksStmt = db.prepare('SELECT * FROM webhooks ORDER BY created_at, id');
    this.getWebhookStmt = db.prepare('SELECT * FROM webhooks WHERE id = ?');
    this.deleteWebhookStmt = db.prepare('DELETE FROM webhooks WHERE id = ?');
    this.insertDelivery = db.prepare(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, status, error, at)
       SELECT @webhookId, @eventId, @attempt, @status, @error, @at
       WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = @webhookId)`,
    );
    this.pruneDeliveries = db.prepare(
      `DELETE FROM webhook_deliveries WHERE webhook_id = ? AND id < (
         SELECT id FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
    this.listDeliveriesStmt = db.prepare(
      `SELECT webhook_id, event_id, attempt, status, error, at FROM webhook_deliveries
       WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`,
    );
    const recordDelivery = db.transaction((rec: DeliveryRecord): boolean => {
      const inserted = this.insertDelivery.run({
        webhookId: rec.webhookId,
        eventId: rec.eventId,
        attempt: rec.attempt,
        status: rec.status,
        error: rec.error,
        at: rec.at,
      });
      if (inserted.changes === 0) return false;
      this.pruneDeliveries.run(rec.webhookId, rec.webhookId, MAX_DELIVERIES_PER_WEBHOOK - 1);
      return true;
    });
    // Insert then prune reads what it just wrote: take the write lock up front (BEGIN IMMEDIATE) so a second
    // connection cannot make this transaction fail half-way with SQLITE_BUSY on lock upgrade.
    this.recordDeliveryTx = (rec) => recordDelivery.immediate(rec);
  }

  /**
   * Opens (creating if needed) <dataDir>/corral.db and brings its schema up to date. On a disk too full to open it
   * for writing (the WAL cannot grow, a migration cannot commit) it opens read-only instead, so a restart on a full
   * disk still serves what was recorded; `readOnly` then says why, and every write is refused as STORAGE_FULL.
   */
  static open(dataDir: string, options: StoreOptions = {}): Store {
    fs.mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
    const file = path.join(dataDir, DB_FILE_NAME);
    if (options.readOnly !== undefined && fs.existsSync(file)) return new Store(openReadOnly(file), options, options.readOnly);
    try {
      return new Store(openWritable(file, dataDir), options);
    } catch (error) {
      // Expected: a full disk. Anything else (a bad file, a newer schema) is reported as it is.
      if (!isDiskFullError(error) || !fs.existsSync(file)) throw error;
      const reason: ReadOnlyReason = {
        message:
          `The disk holding ${dataDir} was full when the daemon started, so the store is open read-only: sessions ` +
          'and their output can be read, nothing new can be recorded. Free space and restart corral.',
      };
      return new Store(openReadOnly(file), options, reason);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs one store operation, turning SQLite's full-disk and locked errors into STORAGE_FULL and STORE_BUSY. */
  private guard<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      throw translateStoreError(error, this.readOnly) ?? error;
    }
  }

  // ── Sessions ────────────────────────────────────────────────────────────────

  /** Inserts or replaces the session (by info.id). */
  saveSession(record: StoredSession): void {
    return this.guard(() => {
      const { info, runtime } = record;
      this.upsertSession.run({
        id: info.id,
        state: info.state,
        taskId: info.taskId,
        profile: info.profile,
        createdAt: normalizeIso(info.createdAt, 'createdAt'),
        endedAt: info.endedAt === null ? null : normalizeIso(info.endedAt, 'endedAt'),
        pid: runtime.pid,
        pidStartTime: runtime.pidStartTime,
        pgid: runtime.pgid,
        info: JSON.stringify(info),
      });
    });
  }

  getSession(id: string): StoredSession | undefined {
    return this.guard(() => {
      const row = this.getSessionStmt.get(id);
      return row === undefined ? undefined : sessionFromRow(row);
    });
  }

  /** Newest first (createdAt, then id); pass `nextCursor` back as `cursor` for the next page. */
  listSessions(query: ListSessionsQuery): SessionPage {
    return this.guard(() => {
      const limit = clampLimit(query.limit);
      const cursor = query.cursor === undefined ? null : decodeSessionCursor(query.cursor);
      const rows = this.listSessionsStmt.all({
        state: query.state ?? null,
        taskId: query.taskId ?? null,
        profile: query.profile ?? null,
        live: query.live === undefined ? null : query.live ? 1 : 0,
        cursorAt: cursor?.createdAt ?? null,
        cursorId: cursor?.id ?? null,
        // One extra row tells whether another page exists without a COUNT.
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const nextCursor = rows.length > limit && last !== undefined ? encodeSessionCursor({ createdAt: last.created_at, id: last.id }) : null;
      return { sessions: page.map(sessionFromRow), nextCursor };
    });
  }

  /**
   * Every session not `terminated`, oldest first: what a restart must recover. Unpaged on purpose — it is bounded
   * by the live-session limit, and recovery must see all of them.
   */
  listLiveSessions(): StoredSession[] {
    return this.guard(() => {
      return this.listLiveStmt.all().map(sessionFromRow);
    });
  }

  /** Ids of terminated sessions that ended before `isoDate`, oldest first, so their output dirs can be removed. */
  listSessionIdsEndedBefore(isoDate: string, limit: number): string[] {
    return this.guard(() => {
      return this.listEndedIdsStmt.all(normalizeIso(isoDate, 'isoDate'), clampLimit(limit)).map((row) => row.id);
    });
  }

  /** Retention: deletes terminated sessions that ended before `isoDate` with their events and commands. */
  deleteSessionsEndedBefore(isoDate: string): number {
    return this.guard(() => {
      return this.deleteEndedStmt.run(normalizeIso(isoDate, 'isoDate')).changes;
    });
  }

  deleteEndedSession(id: string): boolean {
    return this.guard(() => this.deleteOneEndedStmt.run(id).changes > 0);
  }

  // ── State events ────────────────────────────────────────────────────────────

  /** False when the session is unknown. A repeated seq for one session is a caller bug and throws. */
  appendEvent(sessionId: string, ev: StateEvent): boolean {
    return this.guard(() => {
      const result = this.insertEvent.run({
        sessionId,
        seq: ev.seq,
        from: ev.from,
        to: ev.to,
        at: ev.at,
        reason: ev.reason,
        source: ev.source,
      });
      return result.changes > 0;
    });
  }

  /** In seq order; empty for an unknown session. */
  listEvents(sessionId: string, query: SeqPageQuery): StateEvent[] {
    return this.guard(() => {
      return this.listEventsStmt.all(sessionId, query.afterSeq ?? -1, clampLimit(query.limit)).map(eventFromRow);
    });
  }

  lastEvent(sessionId: string): StateEvent | undefined {
    return this.guard(() => {
      const row = this.lastEventStmt.get(sessionId);
      return row === undefined ? undefined : eventFromRow(row);
    });
  }

  lastEventsOfLiveSessions(): Map<string, StateEvent> {
    return this.guard(() => new Map(this.lastEventsOfLiveStmt.all().map((row) => [row.session_id, eventFromRow(row)])));
  }

  // ── Command history ─────────────────────────────────────────────────────────

  /** False when the session is unknown. A repeated seq for one session is a caller bug and throws. */
  addCommand(rec: CommandRecord): boolean {
    return this.guard(() => {
      const result = this.insertCommand.run({
        sessionId: rec.sessionId,
        seq: rec.seq,
        kind: rec.kind,
        text: rec.text,
        startedAt: rec.startedAt,
        endedAt: rec.endedAt,
        exitCode: rec.exitCode,
        cwd: rec.cwd,
        outputStart: rec.outputStart,
        outputEnd: rec.outputEnd,
        timedOut: rec.timedOut ? 1 : 0,
        durationMs: rec.durationMs,
      });
      return result.changes > 0;
    });
  }

  /** False when no such command exists. */
  finishCommand(sessionId: string, seq: number, fields: CommandFinish): boolean {
    return this.guard(() => {
      const result = this.finishCommandStmt.run({
        sessionId,
        seq,
        endedAt: fields.endedAt,
        exitCode: fields.exitCode,
        keepCwd: fields.cwd === undefined ? 1 : 0,
        cwd: fields.cwd ?? null,
        outputEnd: fields.outputEnd,
        timedOut: fields.timedOut ? 1 : 0,
        durationMs: fields.durationMs,
      });
      return result.changes > 0;
    });
  }

  /** In seq order; empty for an unknown session. */
  listCommands(sessionId: string, query: SeqPageQuery): CommandRecord[] {
    return this.guard(() => {
      return this.listCommandsStmt.all(sessionId, query.afterSeq ?? -1, clampLimit(query.limit)).map(commandFromRow);
    });
  }

  /** The highest command seq recorded for a session (0 when none). */
  lastCommandSeq(sessionId: string): number {
    return this.guard(() => {
      return this.lastCommandSeqStmt.get(sessionId)?.last ?? 0;
    });
  }

  // ── Templates and macros ────────────────────────────────────────────────────

  // ── Holders of live sessions ────────────────────────────────────────────────

  saveHost(host: StoredHost): void {
    this.guard(() => this.hosts.save(host));
  }

  getHost(sessionId: string): StoredHost | undefined {
    return this.guard(() => this.hosts.get(sessionId));
  }

  listHosts(): StoredHost[] {
    return this.guard(() => this.hosts.list());
  }

  // ── Dashboard logins ────────────────────────────────────────────────────────

  saveLogin(login: StoredLogin): void {
    this.guard(() => this.logins.save(login));
  }

  deleteLogin(idHash: string): void {
    this.guard(() => this.logins.delete(idHash));
  }

  /** The logins still valid at `now`. Expired rows are dropped on the way when the store takes writes. */
  liveLogins(now: number): StoredLogin[] {
    if (this.readOnly === null) {
      try {
        this.guard(() => this.logins.dropExpired(now));
      } catch (error) {
        // A full disk or a locked store: expired rows are never answered anyway; the next start drops them.
        if (!(error instanceof CorralError)) throw error;
      }
    }
    return this.guard(() => this.logins.live(now));
  }

  // ── Event log (SSE / webhook events, for resume across a restart) ─────────────

  /** True inside a commit (batch): what is written now is durable once it is done. */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** Appends the events in one transaction (all or none). */
  appendLoggedEvents(events: readonly LoggedEvent[]): void {
    this.guard(() => this.eventLog.append(events));
  }

  /** The newest `limit` logged events, oldest first. A read only: a read-only store still answers it. */
  recentLoggedEvents(limit: number): LoggedEvent[] {
    return this.guard(() => this.eventLog.recent(limit));
  }

  dropLoggedEventsUpTo(seq: number): void {
    this.guard(() => this.eventLog.dropUpTo(seq));
  }

  deleteHost(sessionId: string): void {
    this.guard(() => this.hosts.delete(sessionId));
  }

  /** Creates or replaces; createdAt survives a replace. `body` must be JSON data (validated by the caller). */
  putTemplate(name: string, body: unknown): NamedBody {
    return this.guard(() => {
      return this.templates.put(name, body, this.now().toISOString());
    });
  }

  getTemplate(name: string): NamedBody | undefined {
    return this.guard(() => {
      return this.templates.get(name);
    });
  }

  /** By name. Unpaged: templates are hand-made presets, a few dozen at most. */
  listTemplates(): NamedBody[] {
    return this.guard(() => {
      return this.templates.list();
    });
  }

  deleteTemplate(name: string): boolean {
    return this.guard(() => {
      return this.templates.delete(name);
    });
  }

  putMacro(name: string, body: unknown): NamedBody {
    return this.guard(() => {
      return this.macros.put(name, body, this.now().toISOString());
    });
  }

  getMacro(name: string): NamedBody | undefined {
    return this.guard(() => {
      return this.macros.get(name);
    });
  }

  /** By name. Unpaged: macros are hand-made, a few dozen at most. */
  listMacros(): NamedBody[] {
    return this.guard(() => {
      return this.macros.list();
    });
  }

  deleteMacro(name: string): boolean {
    return this.guard(() => {
      return this.macros.delete(name);
    });
  }

  // ── Batching ────────────────────────────────────────────────────────────────

  /**
   * Runs `fn` as one transaction (a savepoint when nested): several writes of one moment then cost one commit
   * instead of one each. If `fn` throws, its writes are rolled back and the error propagates.
   */
  batch<T>(fn: () => T): T {
    return this.guard(() => {
      return this.db.transaction(fn)();
    });
  }

  // ── Webhooks ────────────────────────────────────────────────────────────────

  /** Creates or replaces (createdAt of an existing webhook is kept). The secret is stored as given: it signs payloads. */
  putWebhook(rec: WebhookRecord): void {
    return this.guard(() => {
      this.webhooksCache = null;
      this.upsertWebhook.run({
        id: rec.id,
        url: rec.url,
        events: JSON.stringify(rec.events),
        secret: rec.secret,
        created_at: rec.createdAt,
      });
    });
  }

  getWebhook(id: string): WebhookRecord | undefined {
    return this.guard(() => {
      const row = this.getWebhookStmt.get(id);
      return row === undefined ? undefined : webhookFromRow(row);
    });
  }

  /**
   * Every event consults this list, so it is kept in memory between changes. This connection is the only writer
   * of the table (one daemon owns a data dir), so put/delete are the only ways it changes.
   */
  private webhooksCache: readonly WebhookRecord[] | null = null;

  listWebhooks(): readonly WebhookRecord[] {
    return this.guard(() => {
      this.webhooksCache ??= this.listWebhooksStmt.all().map(webhookFromRow);
      return this.webhooksCache;
    });
  }

  /** Also deletes its delivery log. */
  deleteWebhook(id: string): boolean {
    return this.guard(() => {
      this.webhooksCache = null;
      return this.deleteWebhookStmt.run(id).changes > 0;
    });
  }

  /** False when the webhook is unknown. Keeps the newest MAX_DELIVERIES_PER_WEBHOOK attempts. */
  recordDelivery(rec: DeliveryRecord): boolean {
    return this.guard(() => {
      return this.recordDeliveryTx(rec);
    });
  }

  /** Newest first. */
  listDeliveries(webhookId: string, limit: number): DeliveryRecord[] {
    return this.guard(() => {
      return this.listDeliveriesStmt.all(webhookId, clampLimit(limit)).map(deliveryFromRow);
    });
  }
}

// ── Opening ───────────────────────────────────────────────────────────────────

function openWritable(file: string, dataDir: string): Database.Database {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL: a power cut may lose the last commits but never corrupts the file; a daemon crash loses nothing.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    // The store holds webhook and template secrets: owner-only, whatever the umask made of the files.
    for (const suffix of ['', '-wal', '-shm']) {
      const part = path.join(dataDir, DB_FILE_NAME + suffix);
      if (fs.existsSync(part)) fs.chmodSync(part, DB_FILE_MODE);
    }
    return db;
  } catch (error) {
    // Opening failed half-way (bad file, newer schema, full disk): release the handle before reporting.
    db.close();
    throw error;
  }
}

/** The full-disk fallback: reads only, and only a store whose schema this Corral already wrote (nothing can migrate). */
function openReadOnly(file: string): Database.Database {
  const db = openReadOnlyConnection(file);
  try {
    const version = readUserVersion(db);
    if (version !== SCHEMA_VERSION) {
      throw new Error(
        `The disk is full and the store (schema ${version}) needs migrating to ${SCHEMA_VERSION}, which needs space: free space and start again.`,
      );
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * A read-only connection to the file, or, when a full disk refuses even that, a copy of the file in memory: a WAL
 * database closed cleanly has no -shm, and a read-only connection must create and size one (SQLITE_IOERR_SHMSIZE on a
 * full tmpfs). The copy is the whole store only while no WAL waits to be replayed; a crash leaves -wal and -shm
 * behind with their space, and then the connection itself opens.
 */
function openReadOnlyConnection(file: string): Database.Database {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // Opening alone maps nothing: the first read does.
    readUserVersion(db);
    return db;
  } catch (error) {
    db?.close();
    if (!isDiskFullError(error) || walSize(file) > 0) throw error;
    const image = fs.readFileSync(file);
    // The header's read and write versions (bytes 18 and 19) say WAL (2); a database in memory has none: legacy (1).
    image[18] = 1;
    image[19] = 1;
    return new Database(image, { readonly: true });
  }
}

/** Bytes in the database's WAL file (0 when there is none). */
function walSize(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

// ── Row conversion ────────────────────────────────────────────────────────────

function sessionFromRow(row: SessionRow): StoredSession {
  // The JSON was written by saveSession from a typed SessionInfo; the schema is ours, so it is trusted here.
  const info = JSON.parse(row.info) as SessionInfo;
  return { info, runtime: { pid: row.pid, pidStartTime: row.pid_start_time, pgid: row.pgid } };
}

function eventFromRow(row: EventRow): StateEvent {
  return {
    seq: row.seq,
    // Written from typed StateEvents only.
    from: row.from_state as SessionState | null,
    to: row.to_state as SessionState,
    at: row.at,
    reason: row.reason,
    source: row.source as StateSource,
  };
}

function commandFromRow(row: CommandRow): CommandRecord {
  return {
    sessionId: row.session_id,
    seq: row.seq,
    // The column has a CHECK constraint on exactly these kinds.
    kind: row.kind as CommandKind,
    text: row.text,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    exitCode: row.exit_code,
    cwd: row.cwd,
    outputStart: row.output_start,
    outputEnd: row.output_end,
    timedOut: row.timed_out === 1,
    durationMs: row.duration_ms,
  };
}

function namedFromRow(row: NamedRow): NamedBody {
  return { name: row.name, body: JSON.parse(row.body) as unknown, createdAt: row.created_at, updatedAt: row.updated_at };
}

function webhookFromRow(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    // Written by putWebhook from a string[].
    events: JSON.parse(row.events) as string[],
    secret: row.secret,
    createdAt: row.created_at,
  };
}

function deliveryFromRow(row: DeliveryRow): DeliveryRecord {
  return {
    webhookId: row.webhook_id,
    eventId: row.event_id,
    attempt: row.attempt,
    status: row.status,
    error: row.error,
    at: row.at,
  };
}

// ── Helpers ───────────────────────────────────────────────────────────────────

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit) || limit < 1) return 1;
  return Math.min(Math.floor(limit), MAX_PAGE_LIMIT);
}

/** Indexed timestamps are compared as text, so they must all have one shape: `Date#toISOString()`. */
function normalizeIso(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new CorralError('VALIDATION_FAILED', `${field} "${value}" is not an ISO 8601 date.`);
  return new Date(ms).toISOString();
}

