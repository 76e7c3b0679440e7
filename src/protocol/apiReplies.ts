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

/** One option of a dialog on an agent's screen; `answer` takes its number (else its label). */
export interface PendingDialogOption {
  index: number;
  label: string;
  number: number | null;
  /** The option the dialog's cursor is on. */
  selected: boolean;
}

/** A dialog on an agent's screen, read with the profile's patterns (the dashboard's attention queue shows it). */
export interface PendingDialog {
  /** The profile's dialog id (`trust`, `api_key`, `permission`, `login`, …), as `autoAnswer` names it. */
  id: string;
  description: string;
  /** The dialog's question as on screen (`Do you want to proceed?`). */
  question: string;
  /** Lines above the question: what it is about (a tool's command, a file name). */
  context: string[];
  /** The tool a permission dialog asks about, when the profile can tell. */
  tool: string | null;
  options: PendingDialogOption[];
  /** When the dialog appeared on screen. */
  since: string;
}

/** `GET /sessions/{id}/dialog`: what an agent session asks now, and the last reply of its agent. */
export interface DialogReply {
  state: SessionState;
  /** Null when no dialog is on screen (or the session is not an agent session). */
  dialog: PendingDialog | null;
  /** The text of the agent's last finished turn (from its hooks), null when none was seen. */
  lastReply: string | null;
}

export interface ConversationTurn {
  role: 'user' | 'assistant';
  text: string;
  at: string | null;
}

/** `GET /sessions/{id}/conversation`: an agent session's prompts and replies, oldest first. */
export interface ConversationReply {
  turns: ConversationTurn[];
  /** `transcript`: the CLI's own transcript; `history`: only the prompts Corral submitted (no replies known). */
  source: 'transcript' | 'history';
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

/**
 * A node of a fleet (`GET /api/v1/nodes`): `up` (its lease is alive), `draining` (up, but takes no new sessions), or
 * `unreachable` (its lease expired: crashed, cut off, or stopping; its sessions may still run under their holders).
 */
export type NodeState = 'up' | 'draining' | 'unreachable';

export interface NodeInfo {
  name: string;
  /** Where the other nodes reach it (`--advertise-url`). */
  url: string;
  state: NodeState;
  /** Live sessions, as the node last published them (null when it never did). */
  sessions: number | null;
  maxSessions: number | null;
  /** One-minute load average and free memory of its machine, as last published. */
  load: number | null;
  freeMemoryBytes: number | null;
  labels: Record<string, string>;
  draining: boolean;
  /** When the node last published its capacity. */
  updatedAt: string | null;
}

export interface NodesReply {
  nodes: NodeInfo[];
}

/** POST /nodes/:name/drain: the node, and what still runs there. */
export interface DrainReply {
  node: NodeInfo;
  sessions: SessionInfo[];
}

/** POST /nodes/:name/forget: the sessions that ended as lost. */
export interface ForgetReply {
  node: string;
  lost: SessionInfo[];
}
