// `corral.sessions`: every per-session route of the REST API as a typed method (create, get, list, input, wait,
// output, screen, exec, prompt, answer, terminate, …), plus the output iterator and the WebSocket attachment.
// Request and reply types are the protocol's; this file only names routes and shapes queries.

import type {
  AgentSessionRequest,
  AnswerRequest,
  CreateSessionRequest,
  InputRequest,
  PromptRequest,
  ShellExecRequest,
  ShellExecResult,
  SignalName,
  UpdateSessionRequest,
  WaitRequest,
} from '../protocol/api.js';
import type {
  AnswerReply,
  CommandPage,
  ConversationReply,
  DialogReply,
  InputReply,
  MacroRunReply,
  OutputStreamName,
  PromptReply,
  ScreenReply,
  SessionPage,
  WaitResult,
} from '../protocol/apiReplies.js';
import type { LinesResult, OutputRead, SearchResult, SessionInfo, SessionState } from '../protocol/sessionTypes.js';
import { outputStream, type OutputChunk, type OutputOptions } from './outputStream.js';
import { queryString, type RestTransport } from './RestTransport.js';
import { SessionAttachment, type AttachOptions } from './SessionAttachment.js';
import { chunkText } from './textChunks.js';

/**
 * One long-poll lasts at most this long, then the next one starts: Node's fetch (undici) gives up on a reply whose
 * headers take over 300 s, and a dead daemon is noticed within a minute.
 */
const WAIT_SLICE_MS = 60_000;

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListQuery {
  state?: SessionState;
  taskId?: string;
  profile?: string;
  /** true: every state but terminated; false: only terminated; absent: both. */
  live?: boolean;
  /** Page size, at most 1000 (the daemon's default is 100). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ReadOutputQuery {
  since?: number;
  format?: 'raw' | 'text';
  /** Default: base64 for raw, utf8 for text. */
  encoding?: 'base64' | 'utf8';
  stream?: OutputStreamName;
  /** Bytes per read (the daemon's default is 1 MiB). */
  limit?: number;
}

export interface LinesQuery {
  since?: number;
  include?: string;
  exclude?: string;
  ignoreCase?: boolean;
  stream?: OutputStreamName;
  limit?: number;
}

export interface SearchQuery {
  pattern: string;
  ignoreCase?: boolean;
  since?: number;
  stream?: OutputStreamName;
  limit?: number;
}

export class SessionsApi {
  constructor(private readonly transport: RestTransport) {}

  /** 201 with the new session, or (a taskId with a live session, no forceNew) that session. */
  create(request: CreateSessionRequest): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('POST', '/api/v1/sessions', request);
  }

  /** `POST /sessions/agent`: an agent session of any agent profile, task worktree included; idempotent per taskId. */
  createAgent(request: AgentSessionRequest): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('POST', '/api/v1/sessions/agent', request);
  }

  get(id: string, options: CallOptions = {}): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('GET', sessionPath(id), undefined, options);
  }

  /** One page, newest first; continue with `cursor: page.nextCursor`. */
  list(query: ListQuery = {}): Promise<SessionPage> {
    const { live, ...rest } = query;
    return this.transport.request<SessionPage>('GET', `/api/v1/sessions${queryString({ ...rest, live })}`);
  }

  /** One input write as the wire has it: text, then named keys (Enter, C-c, …), then eof (pipe sessions). */
  input(id: string, request: InputRequest): Promise<InputReply> {
    return this.transport.request<InputReply>('POST', sessionPath(id, '/input'), request);
  }

  /** Types text of any length (split into request-sized writes), then the keys, then eof. */
  async send(id: string, text: string, options: { keys?: string[]; eof?: boolean } = {}): Promise<InputReply> {
    const keys = options.keys !== undefined && options.keys.length > 0 ? options.keys : undefined;
    const eof = options.eof === true ? true : undefined;
    const pieces = chunkText(text);
    if (pieces.length === 0) return this.input(id, { keys, eof });
    let reply: InputReply | undefined;
    for (const [index, data] of pieces.entries()) {
      const last = index === pieces.length - 1;
      reply = await this.input(id, { data, ...(last ? { keys, eof } : {}) });
    }
    // pieces is not empty, so the loop ran.
    return reply as InputReply;
  }

  /**
   * Waits for a state, an output pattern or exit, as long as `timeoutMs` (up to an hour) in long-poll slices. A
   * pattern without `since` is searched in output after the wait starts, the same bytes in every slice.
   */
  async wait(id: string, request: WaitRequest, options: CallOptions = {}): Promise<WaitResult> {
    let since = request.since;
    if (request.pattern !== undefined && since === undefined && request.timeoutMs > WAIT_SLICE_MS) {
      since = (await this.get(id, options)).output.totalBytes;
    }
    const deadline = performance.now() + request.timeoutMs;
    for (;;) {
      const remaining = Math.max(0, Math.round(deadline - performance.now()));
      const result = await this.transport.request<WaitResult>(
        'POST',
        sessionPath(id, '/wait'),
        { ...request, since, timeoutMs: Math.min(remaining, WAIT_SLICE_MS) },
        options,
      );
      if (result.outcome !== 'timeout' || remaining <= WAIT_SLICE_MS) return result;
    }
  }

  /** Ends the session and its whole process tree (force: SIGKILL at once); answers the ended session. */
  terminate(id: string, options: { force?: boolean } = {}): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('DELETE', sessionPath(id, options.force === true ? '?force=true' : ''));
  }

  /** Ends the session if live, then removes its record, history and output (DELETE ?purge=true). */
  purge(id: string, options: { force?: boolean } = {}): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('DELETE', sessionPath(id, `?purge=true${options.force === true ? '&force=true' : ''}`));
  }

  /** Removes every ended session that ended more than `olderThanMs` ago; answers how many. */
  prune(olderThanMs: number): Promise<{ removed: number }> {
    return this.transport.request<{ removed: number }>('POST', '/api/v1/sessions/prune', { olderThanMs });
  }

  signal(id: string, name: SignalName): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('POST', sessionPath(id, '/signal'), { signal: name });
  }

  interrupt(id: string): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('POST', sessionPath(id, '/interrupt'));
  }

  resize(id: string, size: { cols: number; rows: number }): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('POST', sessionPath(id, '/resize'), size);
  }

  /** One page of output by cursor, as the wire has it (never consumes). */
  readOutput(id: string, query: ReadOutputQuery = {}, options: CallOptions = {}): Promise<OutputRead> {
    return this.transport.request<OutputRead>('GET', sessionPath(id, `/output${queryString({ ...query })}`), undefined, options);
  }

  /** Output from `since`, page by page; with `follow` (the default) until the session has ended. */
  output(id: string, options?: OutputOptions & { format?: 'raw' }): AsyncGenerator<OutputChunk<Uint8Array>>;
  output(id: string, options: OutputOptions & { format: 'text' }): AsyncGenerator<OutputChunk<string>>;
  output(id: string, options: OutputOptions): AsyncGenerator<OutputChunk<Uint8Array | string>>;
  output(id: string, options: OutputOptions = {}): AsyncGenerator<OutputChunk<Uint8Array | string>> {
    return outputStream(
      {
        // Bytes travel as base64 so a page boundary inside a UTF-8 sequence stays whole; the text view is characters.
        readPage: (since, page) =>
          this.readOutput(
            id,
            { since, format: page.format, encoding: page.format === 'text' ? 'utf8' : 'base64', stream: page.stream, limit: page.limit },
            { signal: page.signal },
          ),
        info: (signal) => this.get(id, { signal }),
      },
      options,
    );
  }

  /** The rendered terminal (pty sessions), with `scrollback` lines that scrolled off the top. */
  screen(id: string, query: { scrollback?: number } = {}): Promise<ScreenReply> {
    return this.transport.request<ScreenReply>('GET', sessionPath(id, `/screen${queryString(query)}`));
  }

  lines(id: string, query: LinesQuery = {}): Promise<LinesResult> {
    return this.transport.request<LinesResult>('GET', sessionPath(id, `/lines${queryString({ ...query, ignoreCase: query.ignoreCase || undefined })}`));
  }

  search(id: string, query: SearchQuery): Promise<SearchResult> {
    return this.transport.request<SearchResult>('GET', sessionPath(id, `/search${queryString({ ...query, ignoreCase: query.ignoreCase || undefined })}`));
  }

  /** The session's command and prompt history, oldest first; continue with `after: Number(page.nextCursor)`. */
  commands(id: string, query: { after?: number; limit?: number } = {}): Promise<CommandPage> {
    return this.transport.request<CommandPage>('GET', sessionPath(id, `/commands${queryString(query)}`));
  }

  /** Runs a command in a shell session between the shell's own marks; SESSION_BUSY while another one runs. */
  exec(id: string, request: ShellExecRequest, options: CallOptions = {}): Promise<ShellExecResult> {
    return this.transport.request<ShellExecResult>('POST', sessionPath(id, '/commands'), request, options);
  }

  /** An agent turn: submits the prompt, waits for idle or a question (or the timeout). */
  prompt(id: string, request: PromptRequest, options: CallOptions = {}): Promise<PromptReply> {
    return this.transport.request<PromptReply>('POST', sessionPath(id, '/prompt'), request, options);
  }

  /** Answers the dialog an agent session shows, by option number or text. */
  answer(id: string, request: AnswerRequest, options: CallOptions = {}): Promise<AnswerReply> {
    return this.transport.request<AnswerReply>('POST', sessionPath(id, '/answer'), request, options);
  }

  /** Renames a live session (`name: null` clears it). */
  update(id: string, request: UpdateSessionRequest, options: CallOptions = {}): Promise<SessionInfo> {
    return this.transport.request<SessionInfo>('PATCH', sessionPath(id), request, options);
  }

  /** What an agent session asks now (the dialog on its screen with its options) and the agent's last reply. */
  dialog(id: string, options: CallOptions = {}): Promise<DialogReply> {
    return this.transport.request<DialogReply>('GET', sessionPath(id, '/dialog'), undefined, options);
  }

  /** An agent session's prompts and replies, oldest first. */
  conversation(id: string, query: { limit?: number } = {}, options: CallOptions = {}): Promise<ConversationReply> {
    return this.transport.request<ConversationReply>('GET', sessionPath(id, `/conversation${queryString(query)}`), undefined, options);
  }

  runMacro(id: string, name: string): Promise<MacroRunReply> {
    return this.transport.request<MacroRunReply>('POST', sessionPath(id, `/macros/${encodeURIComponent(name)}/run`));
  }

  /** The session's terminal over a WebSocket: live output from `since` (resumed after a drop), input, resize. */
  attach(id: string, options: AttachOptions = {}): SessionAttachment {
    return new SessionAttachment(this.transport.endpoint, id, options);
  }
}

/** A path under /api/v1/sessions: ids are opaque, so encode rather than trust them. */
function sessionPath(id: string, suffix = ''): string {
  return `/api/v1/sessions/${encodeURIComponent(id)}${suffix}`;
}
