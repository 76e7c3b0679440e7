// The MCP backend inside the daemon (`/mcp`): calls the SessionManager directly, no HTTP hop. Holds no session
// state of its own and must never bypass the engine's checks (cwd policy, limits, env allowlist).

import type {
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
import type { SessionManager } from '../engine/SessionManager.js';
import { shellExec } from '../engine/shell/ShellExec.js';
import type { AnswerReply, McpBackend, OutputReadRequest, PromptReply, SignalName, WaitResult } from './McpBackend.js';

export class EngineBackend implements McpBackend {
  constructor(private readonly manager: SessionManager) {}

  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.manager.exec(request, signal);
  }

  async shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    return shellExec(this.manager.get(id), this.manager.history, request, signal);
  }

  async prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptReply> {
    return this.manager.agents.prompt(this.manager.get(id), request, signal);
  }

  async answer(id: string, request: AnswerRequest, signal?: AbortSignal): Promise<AnswerReply> {
    return this.manager.agents.answer(this.manager.get(id), request, signal);
  }

  createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    return Promise.resolve(this.manager.create(request).session.toInfo());
  }

  getSession(id: string): Promise<SessionInfo> {
    return Promise.resolve(this.manager.info(id));
  }

  listSessions(query: { live?: boolean; limit: number }): Promise<SessionInfo[]> {
    return Promise.resolve(this.manager.list({ live: query.live, limit: query.limit }).sessions);
  }

  sendInput(id: string, input: { data?: string; keys?: string[]; eof?: boolean }): Promise<SessionInfo> {
    const session = this.manager.get(id);
    session.sendInput(input.data, input.keys);
    if (input.eof === true) session.closeInput();
    return Promise.resolve(session.toInfo());
  }

  readOutput(id: string, request: OutputReadRequest): Promise<OutputRead> {
    return Promise.resolve(
      this.manager.readOutput(id, {
        since: request.since,
        format: request.format,
        encoding: 'utf8',
        maxBytes: request.maxBytes,
        stream: request.stream,
      }),
    );
  }

  readScreen(id: string): Promise<ScreenSnapshot> {
    return this.manager.get(id).screenSnapshot();
  }

  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitResult> {
    return this.manager.wait(id, request, signal);
  }

  signal(id: string, name: SignalName): Promise<SessionInfo> {
    const session = this.manager.get(id);
    session.signal(name);
    return Promise.resolve(session.toInfo());
  }

  terminate(id: string, options: { force: boolean }): Promise<SessionInfo> {
    return this.manager.terminate(id, options);
  }
}
