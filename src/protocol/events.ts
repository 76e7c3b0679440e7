// The engine's events as every face sends them: SSE `/api/v1/events` frames and webhook bodies carry these,
// numbered by the event hub (`<boot>.<seq>` ids, so a client resumes with Last-Event-ID, across restarts too).

import type { CommandRecord } from './commandHistory.js';
import type { ExitInfo, SessionInfo, StateEvent } from './sessionTypes.js';

/** Engine-wide happenings, streamed to `/events` subscribers and webhooks. */
export type EngineEvent =
  | { type: 'session.created'; session: SessionInfo }
  | { type: 'session.state'; sessionId: string; event: StateEvent; session: SessionInfo }
  | { type: 'session.exited'; sessionId: string; exit: ExitInfo; session: SessionInfo }
  | { type: 'command.finished'; sessionId: string; command: CommandRecord }
  | { type: 'security.refused'; sessionId: string; refusal: SecurityRefusal }
  | { type: 'agent.version'; sessionId: string; version: AgentVersionReport; session: SessionInfo };

/**
 * An agent session's CLI version, read a moment after it started. `verified: false` means the profile was not
 * verified against this version: its screens may have drifted (watch for a `profile_mismatch` error state).
 */
export interface AgentVersionReport {
  profile: string;
  version: string;
  verified: boolean;
  verifiedVersions: string[];
}

/**
 * A session's scoped token was used beyond its scope (another session, another task, an owner-only route): refused
 * with TOKEN_SCOPE. `sessionId` is the session that holds the token; `face` is where it was used.
 */
export interface SecurityRefusal {
  code: 'TOKEN_SCOPE';
  face: 'rest' | 'websocket' | 'events' | 'mcp';
  /** What was attempted: a route (`GET /api/v1/sessions/:id`), an MCP tool, a WebSocket attach. */
  action: string;
  /** The session or task it was attempted on, when there was one. */
  target: string | null;
  at: string;
}

export type EngineEventType = EngineEvent['type'];

/** What SSE `data:` and a webhook body carry: an engine event with its hub id. */
export interface HubEvent {
  id: string;
  type: EngineEventType;
  at: string;
  sessionId: string;
  data: EngineEvent;
  /** In a fleet (`corral serve --cluster`): the node the event happened on. */
  node?: string;
}

/**
 * A fleet's event stream (`corral serve --cluster`): a node's stream broke off (`node.unreachable`: its events are
 * missing until it is back) or is back (`node.reachable`, resumed where it stopped). No id: they are about the fleet.
 */
export interface FleetNodeEvent {
  type: 'node.unreachable' | 'node.reachable';
  node: string;
  at: string;
}

/**
 * The SSE `gap` event: a resume (Last-Event-ID) could not replay everything missed. Events are logged before they
 * are sent and ids stay valid across daemon restarts (kill -9 included), so a gap means: `evicted` — older than
 * the log's window (`lost` counts them); `not-logged` — the store refused to log some events (a full disk, a
 * foreign lock) and a restart came since (`lost` counts them, null when the id's own event is one of them);
 * `malformed`; `other-boot` — an id this daemon's log never issued (another data dir, a store wiped since).
 */
export interface EventGap {
  type: 'gap';
  lastEventId: string;
  lost: number | null;
  reason: 'evicted' | 'not-logged' | 'malformed' | 'other-boot';
  /** In a fleet: the node whose stream could not replay everything. */
  node?: string;
}
