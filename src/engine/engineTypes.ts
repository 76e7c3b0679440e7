// The engine's public types: what Engine.ts takes and answers beyond the wire shapes of src/protocol. Faces
// import these and Engine.ts, nothing else of the engine. Types only: no values, no Node.

import type { Event } from '../common/lifecycle.js';
import type { ExitInfo, ScreenSnapshot, SessionInfo, SessionState, StateEvent } from '../protocol/sessionTypes.js';

export type { TemplateRecord } from './templates/templates.js';
export type { MacroRecord } from './macros/macros.js';
export type { PromptResult } from './agent/AgentService.js';
export type { WaitOutcome } from './Session.js';
export type { EngineHealth, ScopedCaller } from './SessionManager.js';
export type { TokenScope } from './tokens/ScopedTokens.js';
/** A scoped token's shape and its hash (what a fleet stores and sends instead of the token). */
export { SCOPED_TOKEN_SHAPE, hashToken } from './tokens/ScopedTokens.js';

export type OutputStreamName = 'combined' | 'stdout' | 'stderr';

/** A read of output by cursor, as `GET /sessions/{id}/output` asks for it. */
export interface OutputReadOptions {
  since: number;
  format: 'raw' | 'text';
  encoding: 'base64' | 'utf8';
  maxBytes: number;
  stream: OutputStreamName;
}

/** A session created (201) or, for a taskId with a live session and no forceNew, the one that existed (200). */
export interface CreateReply {
  session: SessionInfo;
  existing: boolean;
}

export interface SessionListQuery {
  state?: SessionState;
  taskId?: string;
  profile?: string;
  live?: boolean;
  limit: number;
  cursor?: string;
}

export interface SessionPageReply {
  sessions: SessionInfo[];
  nextCursor: string | null;
}

export interface WaitReply {
  matched: boolean;
  outcome: 'state' | 'pattern' | 'exit' | 'timeout';
  session: SessionInfo;
}

export interface InputRequestParts {
  data?: string;
  keys?: string[];
  /** Close the session's input after writing. */
  eof?: boolean;
}

export interface LinesOptions {
  since: number;
  include?: string;
  exclude?: string;
  ignoreCase: boolean;
  limit: number;
  stream: OutputStreamName;
}

export interface SearchOptions {
  pattern: string;
  ignoreCase: boolean;
  since?: number;
  limit: number;
  stream: OutputStreamName;
}

export interface TaskReply {
  taskId: string;
  /** The live session of the task, else its newest. */
  session: SessionInfo;
  sessions: SessionInfo[];
}

/** A profile as the dashboard's new-session form offers it. */
export interface ProfileSummary {
  name: string;
  description: string;
  kind: 'pty' | 'pipe';
  hasCommand: boolean;
  /** An agent CLI profile (prompt, answer, conversation apply). */
  agent: boolean;
}

/** What `GET /stats` shows of the engine (the face adds its version). */
export type EngineStats = Record<string, unknown> & {
  totals: { created: number; exited: number; spawnFailed: number };
};

// ---- the live handle the WebSocket face streams from ----------------------------------------------------------

export interface LiveOutputChunk {
  offset: number;
  data: Buffer;
}

export interface LiveOutputRead {
  data: Buffer;
  /** Offset of data[0]; later than asked when older bytes are gone. */
  offset: number;
  nextOffset: number;
  firstAvailableOffset: number;
  /** Bytes lost between the asked offset and `offset`. */
  gap: number;
}

/** A session's combined output by absolute offset: read never consumes; onData fires per appended chunk. */
export interface LiveOutput {
  readonly endOffset: number;
  read(since: number, maxBytes: number): LiveOutputRead;
  readonly onData: Event<LiveOutputChunk>;
}

/**
 * A session in memory, for a face that streams it (the WebSocket): what it may read, write and listen to, and
 * nothing of the engine's own bookkeeping. Everything else goes through Engine by session id.
 */
export interface LiveSession {
  readonly id: string;
  readonly output: LiveOutput;
  /** Set once the process has ended and its last byte is in `output`. */
  readonly exit: ExitInfo | null;
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  signal(name: NodeJS.Signals): void;
  /** Flow control: stop reading the process's output (the kernel buffer then stalls the writer). */
  pause(): void;
  resume(): void;
  screenSnapshot(): Promise<ScreenSnapshot>;
  readonly onStateChange: Event<StateEvent>;
  readonly onExit: Event<ExitInfo>;
  /** Something `toInfo()` shows changed (its state, pid, size, usage…). */
  readonly onInfoChanged: Event<void>;
  toInfo(): SessionInfo;
}

