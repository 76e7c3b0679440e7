// What the MCP tools need from Corral, as one small interface with two implementations: EngineBackend (inside the
// daemon, calls the Engine) and RemoteBackend (`corral mcp` over stdio, calls the REST API). The tools
// never know which one they talk to; this file must never import Node, the engine or a transport.

import type {
  AgentSessionRequest,
  AnswerRequest,
  CreateSessionRequest,
  ExecRequest,
  ExecResult,
  PromptRequest,
  ShellExecRequest,
  ShellExecResult,
  WaitRequest,
} from '../protocol/api.js';
import type { AnswerReply, OutputStreamName, PromptReply, WaitResult } from '../protocol/apiReplies.js';
import type { OutputRead, ScreenSnapshot, SessionInfo } from '../protocol/sessionTypes.js';

// The replies are wire types (src/protocol/apiReplies.ts), named here too for the backends that import them from here.
export type { AnswerReply, OutputStreamName, PromptReply, WaitResult };

export interface OutputReadRequest {
  since: number;
  format: 'raw' | 'text';
  stream: OutputStreamName;
  maxBytes: number;
}

/** Signals a tool may send to a session's process group (the REST `signal` route's list). */
export type SignalName = 'SIGINT' | 'SIGTERM' | 'SIGKILL' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2' | 'SIGSTOP' | 'SIGCONT' | 'SIGWINCH' | 'SIGTSTP';

/**
 * Every method throws an Error whose message a model can act on (CorralError from the engine, CorralClientError from
 * REST — both carry a stable `code`). Waits take an AbortSignal so a client that goes away stops waiting.
 */
export interface McpBackend {
  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult>;
  /** exec in a shell session between the shell's own marks; SESSION_BUSY while another command runs there. */
  shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult>;
  /** An agent turn: submits the prompt, waits for idle or a question. */
  prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptReply>;
  /** Answers the dialog an agent session shows. */
  answer(id: string, request: AnswerRequest, signal?: AbortSignal): Promise<AnswerReply>;
  /** With a taskId whose session is live (and no forceNew), answers that session. A template's fields lie under the request's. */
  createSession(request: CreateSessionRequest): Promise<SessionInfo>;
  /** An agent session of any agent profile in a task worktree (`POST /sessions/agent`). */
  createAgentSession(request: AgentSessionRequest): Promise<SessionInfo>;
  getSession(id: string): Promise<SessionInfo>;
  /** Newest first, live and recently ended. */
  listSessions(query: { live?: boolean; limit: number }): Promise<SessionInfo[]>;
  sendInput(id: string, input: { data?: string; keys?: string[]; eof?: boolean }): Promise<SessionInfo>;
  readOutput(id: string, request: OutputReadRequest): Promise<OutputRead>;
  readScreen(id: string): Promise<ScreenSnapshot>;
  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitResult>;
  signal(id: string, name: SignalName): Promise<SessionInfo>;
  terminate(id: string, options: { force: boolean }): Promise<SessionInfo>;
}
