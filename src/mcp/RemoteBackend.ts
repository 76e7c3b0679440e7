// The MCP backend of `corral mcp` (stdio): every call is one typed-client call to the daemon's REST API, so sessions
// live in the daemon and outlive the MCP client. Must never keep session state or talk to the engine.

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
import type { AnswerReply, PromptReply, WaitResult } from '../protocol/apiReplies.js';
import type { OutputRead, ScreenSnapshot, SessionInfo } from '../protocol/sessionTypes.js';
import type { Corral } from '../client/Corral.js';
import type { McpBackend, OutputReadRequest, SignalName } from './McpBackend.js';

export class RemoteBackend implements McpBackend {
  constructor(private readonly client: Corral) {}

  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.client.exec(request, { signal });
  }

  shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    return this.client.sessions.exec(id, request, { signal });
  }

  prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptReply> {
    return this.client.sessions.prompt(id, request, { signal });
  }

  answer(id: string, request: AnswerRequest, signal?: AbortSignal): Promise<AnswerReply> {
    return this.client.sessions.answer(id, request, { signal });
  }

  createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    return this.client.sessions.create(request);
  }

  createAgentSession(request: AgentSessionRequest): Promise<SessionInfo> {
    return this.client.sessions.createAgent(request);
  }

  getSession(id: string): Promise<SessionInfo> {
    return this.client.sessions.get(id);
  }

  async listSessions(query: { live?: boolean; limit: number }): Promise<SessionInfo[]> {
    return (await this.client.sessions.list(query)).sessions;
  }

  async sendInput(id: string, input: { data?: string; keys?: string[]; eof?: boolean }): Promise<SessionInfo> {
    return (await this.client.sessions.input(id, input)).session;
  }

  readOutput(id: string, request: OutputReadRequest): Promise<OutputRead> {
    return this.client.sessions.readOutput(id, {
      since: request.since,
      format: request.format,
      encoding: 'utf8',
      stream: request.stream,
      limit: request.maxBytes,
    });
  }

  readScreen(id: string): Promise<ScreenSnapshot> {
    return this.client.sessions.screen(id);
  }

  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitResult> {
    return this.client.sessions.wait(id, request, { signal });
  }

  signal(id: string, name: SignalName): Promise<SessionInfo> {
    return this.client.sessions.signal(id, name);
  }

  terminate(id: string, options: { force: boolean }): Promise<SessionInfo> {
    return this.client.sessions.terminate(id, options);
  }
}
