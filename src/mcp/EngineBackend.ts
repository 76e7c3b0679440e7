// The MCP backend inside the daemon (`/mcp`): calls the Engine directly, no HTTP hop. Holds no session
// state of its own and must never bypass the engine's checks (cwd policy, limits, env allowlist).

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
import type { Engine } from '../engine/Engine.js';
import type { AnswerReply, McpBackend, OutputReadRequest, PromptReply, SignalName, WaitResult } from './McpBackend.js';

export class EngineBackend implements McpBackend {
  constructor(private readonly engine: Engine) {}

  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.engine.sessions.exec(request, signal);
  }

  shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    return this.engine.sessions.shellExec(id, request, signal);
  }

  prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptReply> {
    return this.engine.agents.prompt(id, request, signal);
  }

  answer(id: string, request: AnswerRequest, signal?: AbortSignal): Promise<AnswerReply> {
    return this.engine.agents.answer(id, request, signal);
  }

  createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    return Promise.resolve(this.engine.sessions.create(request).session);
  }

  async createAgentSession(request: AgentSessionRequest): Promise<SessionInfo> {
    return (await this.engine.agents.create(request)).session;
  }

  getSession(id: string): Promise<SessionInfo> {
    return Promise.resolve(this.engine.sessions.info(id));
  }

  listSessions(query: { live?: boolean; limit: number }): Promise<SessionInfo[]> {
    return Promise.resolve(this.engine.sessions.list({ live: query.live, limit: query.limit }).sessions);
  }

  sendInput(id: string, input: { data?: string; keys?: string[]; eof?: boolean }): Promise<SessionInfo> {
    return Promise.resolve(this.engine.sessions.input(id, input));
  }

  readOutput(id: string, request: OutputReadRequest): Promise<OutputRead> {
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
    return this.engine.sessions.screen(id);
  }

  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitResult> {
    return this.engine.sessions.wait(id, request, signal);
  }

  signal(id: string, name: SignalName): Promise<SessionInfo> {
    return Promise.resolve(this.engine.sessions.signal(id, name));
  }

  terminate(id: string, options: { force: boolean }): Promise<SessionInfo> {
    return this.engine.sessions.terminate(id, options);
  }
}
