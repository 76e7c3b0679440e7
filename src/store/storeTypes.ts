// Record shapes the store reads and writes (camelCase, as the engine uses them).
// Plain data only: never imports SQLite, so callers can type against the store without opening it.

import type { SessionInfo, SessionState } from '../protocol/sessionTypes.js';

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

export interface WebhookRecord {
  id: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: string;
}

export interface DeliveryRecord {
  webhookId: string;
  eventId: string;
  attempt: number;
  /** HTTP status of the reply; null when no reply came (network error, timeout). */
  status: number | null;
  error: string | null;
  at: string;
}
