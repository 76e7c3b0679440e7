// What the REST routes answer where no zod schema describes the reply: the shapes the typed client, the CLI and the
// MCP tools read. Imports neither Node nor DOM; the daemon's handlers return these shapes, the clients trust them.

import type { CommandRecord } from './commandHistory.js';
import type { MacroBody, MacroRunResult, TemplateBody } from './api.js';
import type { ScreenSnapshot, SessionInfo, SessionState } from './sessionTypes.js';

/** Which output a read or wait looks at: everything in order, or one stream of a pipe session. */
export type OutputStreamName = 'combined' | 'stdout' | 'stderr';

/** What ended a wait (`POST /sessions/{id}/wait`). */
export type WaitOutcome = 'state' | 'pattern' | 'exit' | 'timeout';

/** POST /api/v1/shutdown: answered once sessions are ended (or left running); the daemon stops right after. */
export interface ShutdownReply {
  /** Sessions ended (endSessions) ... */
  endedSessions: number;
  /** ... or left running under their holders for the next start to reattach. */
  keptSessions: number;
}

export interface WaitResult {
  matched: boolean;
  outcome: WaitOutcome;
  session: SessionInfo;
}

/** `POST /sessions/{id}/prompt`: an agent turn's end (or its question, or the timeout). */
export interface PromptReply {
  state: SessionState;
  reply: string | null;
  /** Where the reply came from: `hook`, `transcript`, `screen`, or null when none was found. */
  replySource: 'hook' | 'transcript' | 'screen' | null;
  error: string | null;
  timedOut: boolean;
  durationMs: number;
  session: SessionInfo;
}

/** `POST /sessions/{id}/answer`. */
export interface AnswerReply {
  dialog: string;
  choice: string;
  state: SessionState;
  session: SessionInfo;
}

/** `POST /sessions/{id}/input`. */
export interface InputReply {
  ok: true;
  session: SessionInfo;
}

/** `GET /sessions`: newest first; pass `nextCursor` as `cursor` for the next (older) page. */
export interface SessionPage {
  sessions: SessionInfo[];
  nextCursor: string | null;
}

/** `GET /sessions/{id}/commands`: oldest first; pass `nextCursor` as `after`. */
export interface CommandPage {
  commands: CommandRecord[];
  nextCursor: string | null;
}

/** `GET /sessions/{id}/screen`, with the scrolled-off lines when `scrollback` was asked for. */
export interface ScreenReply extends ScreenSnapshot {
  scrollback?: string[];
}

/** A stored template as the API shows it (secret env values redacted). */
export interface TemplateRecord extends TemplateBody {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface MacroRecord extends MacroBody {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** `POST /sessions/{id}/macros/{name}/run`. */
export interface MacroRunReply extends MacroRunResult {
  session: SessionInfo;
}

/** `DELETE /templates/{name}`, `DELETE /macros/{name}`. */
export interface DeletedReply {
  ok: true;
  name: string;
}

/** `POST /auth/login-links`: a one-time dashboard login. */
export interface LoginLink {
  url: string;
  path: string;
  expiresAt: string;
}
