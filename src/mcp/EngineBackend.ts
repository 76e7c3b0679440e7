// The MCP backend inside the daemon (`/mcp`): calls the Engine directly, no HTTP hop. Holds no session
// state of its own and must never bypass the engine's checks (cwd policy, limits, env allowlist). Opened with a
// session's scoped token (`caller`), every tool reaches that session and its task only (TOKEN_SCOPE otherwise).

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
import type { OutputRead, ScreenSnapshot, SessionInfo } from '../protocol/sessionTypes.js';
import { CorralError } from '../protocol/errors.js';
import type { Engine } from '../engine/Engine.js';
import type { ScopedCaller } from '../engine/engineTypes.js';
import type { AnswerReply, McpBackend, OutputReadRequest, PromptReply, SignalName, WaitResult } from './McpBackend.js';

export class EngineBackend implements McpBackend {
  constructor(
    private readonly engine: Engine,
    private readonly caller?: ScopedCaller,
  ) {}

  /** A scoped caller's reach: throws TOKEN_SCOPE (recorded as an event) for a session outside it. */
  private reach(id: string, tool: string): void {
    if (this.caller !== undefined) this.engine.tokens.checkSession(this.caller, id, `mcp ${tool}`);
  }

  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.engine.sessions.exec(request, signal, this.caller);
  }

  shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    this.reach(id, 'shellExec');
    return this.engine.sessions.shellExec(id, request, signal);
  }

  prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptReply> {
    this.reach(id, 'prompt');
    return this.engine.agents.prompt(id, request, signal);
  }

  answer(id: string, request: AnswerRequest, signal?: AbortSignal): Promise<AnswerReply> {
    this.reach(id, 'answer');
    return this.engine.agents.answer(id, request, signal);
  }

  async createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    const { node, nodeSelector, ...create } = request;
    // As REST answers it: only a fleet node's front door places sessions (and its MCP tools go through that door).
    if (node !== undefined || nodeSelector !== undefined) {
      throw new CorralError('NODE_NOT_FOUND', 'This daemon is not part of a fleet (started without --cluster): give no node or nodeSelector.');
    }
    return (await this.engine.sessions.create(create, this.caller)).session;
  }

  async createAgentSession(request: AgentSessionRequest): Promise<SessionInfo> {
    // As REST's `POST /sessions/agent`, which is closed to scoped tokens: an agent create names its own project,
    // home and worktree, none of which confineCreate can hold to the caller's task, cwd and sandbox.
    if (this.caller !== undefined) {
      throw this.engine.tokens.refuse(this.caller, 'mcp create_session (agent worktree)', request.taskId ?? null, 'A session\'s token cannot start an agent session in a worktree; the owner\'s token can.');
    }
    return (await this.engine.agents.create(request)).session;
  }

  getSession(id: string): Promise<SessionInfo> {
    this.reach(id, 'getSession');
    return Promise.resolve(this.engine.sessions.info(id));
  }

  listSessions(query: { live?: boolean; limit: number }): Promise<SessionInfo[]> {
    const caller = this.caller;
    if (caller === undefined) return Promise.resolve(this.engine.sessions.list({ live: query.live, limit: query.limit }).sessions);
    if (caller.scope.taskId === null) return Promise.resolve([this.engine.sessions.info(caller.scope.sessionId)]);
    return Promise.resolve(this.engine.sessions.list({ live: query.live, limit: query.limit, taskId: caller.scope.taskId }).sessions);
  }

  sendInput(id: string, input: { data?: string; keys?: string[]; eof?: boolean }): Promise<SessionInfo> {
    this.reach(id, 'sendInput');
    return Promise.resolve(this.engine.sessions.input(id, input));
  }

  readOutput(id: string, request: OutputReadRequest): Promise<OutputRead> {
    this.reach(id, 'readOutput');
    return Promise.resolve(
      this.engine.sessions.output(id, {
        since: request.since,
        format: request.format,
        encoding: 'utf8',
        maxBytes: request.maxBytes,
        stream: request.stream,
      }),
    );
  }

  readScreen(id: string): Promise<ScreenSnapshot> {
    this.reach(id, 'readScreen');
    return this.engine.sessions.screen(id);
  }

  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitResult> {
    this.reach(id, 'wait');
    return this.engine.sessions.wait(id, request, signal);
  }

  signal(id: string, name: SignalName): Promise<SessionInfo> {
    this.reach(id, 'signal');
    return Promise.resolve(this.engine.sessions.signal(id, name));
  }

  terminate(id: string, options: { force: boolean }): Promise<SessionInfo> {
    this.reach(id, 'terminate');
    return this.engine.sessions.terminate(id, options);
  }
}
