// `import { Corral } from 'corral/client'`: the typed client's public surface (package.json "exports"). Only what
// a user of the client needs, named one by one; the wire types come from src/protocol.

export { Corral, type CorralOptions } from './Corral.js';
export { CorralClientError, type ClientOnlyCode, type CorralClientErrorCode } from './CorralClientError.js';
export { resolveEndpoint, type DiscoveryOptions, type Endpoint } from './endpoint.js';
export { httpsFetch, type HttpsFetchOptions } from './httpsFetch.js';
export { type CorralEvent, type EventsOptions } from './eventStream.js';
export { type OutputChunk, type OutputOptions } from './outputStream.js';
export { type PresetsApi } from './PresetsApi.js';
export { type NodesApi } from './NodesApi.js';
export { SessionAttachment, type AttachClose, type AttachOptions, type OutputFrameEvent } from './SessionAttachment.js';
export { type CallOptions, type LinesQuery, type ListQuery, type ReadOutputQuery, type SearchQuery, type SessionsApi } from './SessionsApi.js';

export type {
  AnswerRequest,
  CreateSessionRequest,
  ExecRequest,
  ExecResult,
  InputRequest,
  MacroBody,
  MacroRunResult,
  PromptRequest,
  ShellExecRequest,
  ShellExecResult,
  SignalName,
  TemplateBody,
  WaitRequest,
} from '../protocol/api.js';
export type {
  AnswerReply,
  CommandPage,
  DrainReply,
  ForgetReply,
  InputReply,
  LoginLink,
  MacroRecord,
  MacroRunReply,
  NodeInfo,
  NodeState,
  NodesReply,
  OutputStreamName,
  PromptReply,
  ScreenReply,
  SessionPage,
  TemplateRecord,
  WaitOutcome,
  WaitResult,
} from '../protocol/apiReplies.js';
export type { CommandRecord } from '../protocol/commandHistory.js';
export type { ErrorCode } from '../protocol/errors.js';
export type { EngineEvent, EngineEventType, EventGap, HubEvent } from '../protocol/events.js';
export type {
  ExitInfo,
  LinesResult,
  OutputRead,
  ScreenSnapshot,
  SearchResult,
  SessionInfo,
  SessionKind,
  SessionState,
  StateEvent,
} from '../protocol/sessionTypes.js';
export type { ErrorFrame, ExitFrame, GapFrame, ScreenFrame, StateFrame } from '../protocol/wsFrames.js';
