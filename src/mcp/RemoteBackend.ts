// The MCP backend of `corral mcp` (stdio): every call is one REST request to the daemon through CorralClient, so
// sessions live in the daemon and outlive the MCP client. Must never keep session state or talk to the engine.

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
import type { CorralClient } from '../client/CorralClient.js';
import type { AnswerReply, McpBackend, OutputReadRequest, PromptReply, SignalName, WaitResult } from './McpBackend.js';

const API = '/api/v1';

function sessionPath(id: string, rest = ''): string {
  return `${API}/sessions/${encodeURIComponent(id)}${rest}`;
}

export class RemoteBackend implements McpBackend {
  constructor(private readonly client: CorralClient) {}

  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.client.post<ExecResult>(`${API}/exec`, request, { signal });
  }

  shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    return this.client.post<ShellExecResult>(sessionPath(id, '/commands'), request, { signal });
  }

  prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptReply> {
    return this.client.post<PromptReply>(sessionPath(id, '/prompt'), request, { signal });
  }

  answer(id: string, request: AnswerRequest, signal?: AbortSignal): Promise<AnswerReply> {
    return this.client.post<AnswerReply>(sessionPath(id, '/answer'), request, { signal });
  }

  createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    return this.client.post<SessionInfo>(`${API}/sessions`, request);
  }

  getSession(id: string): Promise<SessionInfo> {
    return this.client.get<SessionInfo>(sessionPath(id));
  }

  async listSessions(query: { live?: boolean; limit: number }): Promise<SessionInfo[]> {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.live !== undefined) params.set('live', String(query.live));
    const page = await this.client.get<{ sessions: SessionInfo[] }>(`${API}/sessions?${params.toString()}`);
    return page.sessions;
  }

  async sendInput(id: string, input: { data?: string; keys?: string[]; eof?: boolean }): Promise<SessionInfo> {
    const reply = await this.client.post<{ session: SessionInfo }>(sessionPath(id, '/input'), input);
    return reply.session;
  }

  readOutput(id: string, request: OutputReadRequest): Promise<OutputRead> {
    const params = new URLSearchParams({
      since: String(request.since),
      format: request.format,
      encoding: 'utf8',
      stream: request.stream,
      limit: String(request.maxBytes),
    });
    return this.client.get<OutputRead>(sessionPath(id, `/output?${params.toString()}`));
  }

  readScreen(id: string): Promise<ScreenSnapshot> {
    return this.client.get<ScreenSnapshot>(sessionPath(id, '/screen'));
  }

  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitResult> {
    return this.client.post<WaitResult>(sessionPath(id, '/wait'), request, { signal });
  }

  signal(id: string, name: SignalName): Promise<SessionInfo> {
    return this.client.post<SessionInfo>(sessionPath(id, '/signal'), { signal: name });
  }

  terminate(id: string, options: { force: boolean }): Promise<SessionInfo> {
    return this.client.delete<SessionInfo>(sessionPath(id, options.force ? '?force=true' : ''));
  }
}
