// Storage ports: what the engine needs persisted, as interfaces the engine owns. src/store/Store.ts (SQLite)
// implements them; the engine never imports the store, so a test or another backend can stand in for it.
// Plain shapes and method signatures only: never import a database here.

import type { CommandRecord } from '../protocol/commandHistory.js';
import type { SessionInfo, SessionKind, SessionLimits, SessionSandbox, SessionState, StateEvent } from '../protocol/sessionTypes.js';

/** What the engine needs after a restart to find (and safely signal) what is left of a session's processes. */
export interface SessionRuntime {
  pid: number | null;
  /** Start time of `pid` (e.g. /proc/<pid>/stat field 22) so a recycled pid is never signalled. */
  pidStartTime: number | null;
  pgid: number | null;
}

export interface StoredSession {
  info: SessionInfo;
  runtime: SessionRuntime;
}

export interface ListSessionsQuery {
  state?: SessionState;
  taskId?: string;
  profile?: string;
  /** true: every state but `terminated`; false: only `terminated`; absent: both. */
  live?: boolean;
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface SessionPage {
  sessions: StoredSession[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface SeqPageQuery {
  /** Only records with `seq` greater than this. */
  afterSeq?: number;
  limit: number;
}

/** What `finishCommand` fills in once a command or prompt ends. */
export interface CommandFinish {
  endedAt: string;
  exitCode: number | null;
  /** Omitted: keep the cwd recorded at start. */
  cwd?: string | null;
  outputEnd: number | null;
  timedOut: boolean;
  durationMs: number | null;
}

/** A named template or macro; `body` is validated by its owner, the store keeps it as JSON. */
export interface NamedBody {
  name: string;
  body: unknown;
  createdAt: string;
  updatedAt: string;
}

/** Session rows: one per session ever created, newest first in lists. */
export interface SessionRecords {
  /** Set when the store was opened read-only (a full disk at start): why every write is refused, as STORAGE_FULL. */
  readonly readOnly: { message: string } | null;
  saveSession(record: StoredSession): void;
  getSession(id: string): StoredSession | undefined;
  listSessions(query: ListSessionsQuery): SessionPage;
  /** Sessions the store still calls live (after a crash: the ones to recover). */
  listLiveSessions(): StoredSession[];
  listSessionIdsEndedBefore(isoDate: string, limit: number): string[];
  deleteSessionsEndedBefore(isoDate: string): number;
  /** Removes one ended session's row (its events, commands and host row go with it); false when none was removed. */
  deleteEndedSession(id: string): boolean;
  /** Runs `fn` as one commit. */
  batch<T>(fn: () => T): T;
}

/** State transitions of each session, numbered by `seq`. */
export interface EventLog {
  appendEvent(sessionId: string, event: StateEvent): boolean;
  listEvents(sessionId: string, query: SeqPageQuery): StateEvent[];
  /** The newest event of a session (highest seq), however many it has. */
  lastEvent(sessionId: string): StateEvent | undefined;
  /** The newest event of every session not `terminated`, by session id, in one read (a restart's recovery). */
  lastEventsOfLiveSessions(): Map<string, StateEvent>;
}

/** Command and prompt history of each session, numbered by `seq`. */
export interface CommandLog {
  addCommand(record: CommandRecord): boolean;
  finishCommand(sessionId: string, seq: number, fields: CommandFinish): boolean;
  listCommands(sessionId: string, query: SeqPageQuery): CommandRecord[];
  lastCommandSeq(sessionId: string): number;
}

/** Named templates and macros (bodies validated by their engine owners before they get here). */
export interface PresetStore {
  putTemplate(name: string, body: unknown): NamedBody;
  getTemplate(name: string): NamedBody | undefined;
  listTemplates(): NamedBody[];
  deleteTemplate(name: string): boolean;
  putMacro(name: string, body: unknown): NamedBody;
  getMacro(name: string): NamedBody | undefined;
  listMacros(): NamedBody[];
  deleteMacro(name: string): boolean;
}

/** A pid with its start time: a recycled pid never matches. */
export interface StoredIdentity {
  pid: number;
  startTime: number;
}

/** What a session was started with, minus the child's environment (rebuilt from nothing: it is not needed again). */
export interface StoredSpec {
  name: string | null;
  taskId: string | null;
  profile: string;
  kind: SessionKind;
  command: string[];
  cwd: string;
  explicitEnv: Record<string, string>;
  secretEnvNames: string[];
  labels: Record<string, string>;
  limits: SessionLimits;
  shellIntegration?: { shell: 'bash' | 'zsh' | 'sh'; nonce: string; marksCommandStart: boolean; bracketedPaste: boolean };
  autoAnswer?: string[];
  /** An agent session's hook secret (from the child's environment): the restarted hook server checks it again. */
  hookSecret?: string;
  /** The session's sandbox as its info shows it (the sandbox itself lives with the program). */
  sandbox?: SessionSandbox;
  /** SHA-256 of the session's scoped CORRAL_TOKEN: it keeps working for a session reattached after a restart. */
  scopedTokenHash?: string;
  /** The task worktree Corral made for the session: removed when it ends (unless keep), also after a restart. */
  worktree?: { repo: string; path: string; keep: boolean };
}

/** A live session run by a holder that outlives the daemon: what a later daemon needs to reattach it. */
export interface StoredHost {
  sessionId: string;
  holder: {
    kind: SessionKind;
    socketPath: string;
    /** hex; proves to the holder that we are its daemon. As private as the auth token. */
    secret: string;
    holder: StoredIdentity;
    program: StoredIdentity;
  };
  spec: StoredSpec;
}

/** Holders of live sessions: saved at start, deleted once the session's end is recorded. */
export interface SessionHosts {
  saveHost(host: StoredHost): void;
  getHost(sessionId: string): StoredHost | undefined;
  /** Every holder row, in one read (a restart's reattach). */
  listHosts(): StoredHost[];
  deleteHost(sessionId: string): void;
}

/** Everything the engine persists, in one object (the daemon passes its Store). */
export type EngineStore = SessionRecords & EventLog & CommandLog & PresetStore & SessionHosts;
