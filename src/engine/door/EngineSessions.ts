// engine.sessions: sessions of any profile or kind, by id. Answers protocol shapes; only `attach` hands out a
// live handle, and that only as the narrow LiveSession.

import { CorralError } from '../../protocol/errors.js';
import type {
  CreateSessionRequest,
  ExecRequest,
  ExecResult,
  ShellExecRequest,
  ShellExecResult,
  SignalName,
  WaitRequest,
} from '../../protocol/api.js';
import type { CommandRecord } from '../../protocol/commandHistory.js';
import type { LinesResult, OutputRead, ScreenSnapshot, SearchResult, SessionInfo, StateEvent } from '../../protocol/sessionTypes.js';
import type {
  CreateReply,
  InputRequestParts,
  LinesOptions,
  LiveSession,
  OutputReadOptions,
  SearchOptions,
  SessionListQuery,
  SessionPageReply,
  WaitReply,
} from '../engineTypes.js';
import { lineView, rawReaderOf, searchOutput, type RawReader } from '../search/outputSearch.js';
import type { ScopedCaller, SessionManager } from '../SessionManager.js';
import { shellExec } from '../shell/ShellExec.js';

/** Sessions of any profile or kind: create, find, drive, read, end. */
export class EngineSessions {
  constructor(private readonly manager: SessionManager) {}

  /** Idempotent per taskId unless forceNew: a live session of the task is answered with `existing: true`. */
  /** `caller`: a session's scoped token, which may start sessions of its own task only (TOKEN_SCOPE otherwise). */
  async create(request: CreateSessionRequest, caller?: ScopedCaller): Promise<CreateReply> {
    const { session, existing } = await this.manager.create(request, { caller });
    return { session: session.toInfo(), existing };
  }

  /** Any session ever recorded (memory first, then the store), or SESSION_NOT_FOUND. */
  info(id: string): SessionInfo {
    return this.manager.info(id);
  }

  /** Newest first, live and ended; pages by cursor. */
  list(query: SessionListQuery): SessionPageReply {
    return this.manager.list(query);
  }

  /** Info of every live session (metrics). */
  live(): SessionInfo[] {
    return this.manager.liveSessions().map((session) => session.toInfo());
  }

  /** The live handle a streaming face follows; SESSION_NOT_FOUND / SESSION_NOT_RUNNING like every by-id call. */
  attach(id: string): LiveSession {
    return this.manager.get(id);
  }

  wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<WaitReply> {
    return this.manager.wait(id, request, signal);
  }

  /** Ends a session by the escalation of PRODUCT §1.6 (force: straight to SIGKILL) and answers its final info. */
  terminate(id: string, options: { force?: boolean } = {}): Promise<SessionInfo> {
    return this.manager.terminate(id, options);
  }

  /** Ends the session if live, then removes its record, history and output (`DELETE …?purge=true`). */
  purge(id: string, options: { force?: boolean } = {}): Promise<SessionInfo> {
    return this.manager.purge(id, options);
  }

  /** Removes every ended session that ended more than `olderThanMs` ago (`corral prune --older-than`). */
  prune(olderThanMs: number): { removed: number } {
    return this.manager.prune(olderThanMs);
  }

  /** Writes text and/or named keys; `eof` closes the input afterwards. */
  input(id: string, input: InputRequestParts): SessionInfo {
    const session = this.manager.get(id);
    session.sendInput(input.data, input.keys);
    if (input.eof === true) session.closeInput();
    return session.toInfo();
  }

  /** Renames a live session; an ended one keeps the name it ended with (SESSION_NOT_RUNNING). */
  rename(id: string, name: string | null): SessionInfo {
    const session = this.manager.get(id);
    if (!session.isLive) {
      throw new CorralError('SESSION_NOT_RUNNING', `Session ${id} has ended; its name stays as it was.`, { details: { id, state: session.state } });
    }
    session.rename(name);
    return session.toInfo();
  }

  resize(id: string, cols: number, rows: number): SessionInfo {
    const session = this.manager.get(id);
    session.resize(cols, rows);
    return session.toInfo();
  }

  /** The profile's interrupt keys in a terminal, SIGINT for a pipe session. */
  interrupt(id: string): SessionInfo {
    const session = this.manager.get(id);
    session.interrupt();
    return session.toInfo();
  }

  signal(id: string, name: SignalName): SessionInfo {
    const session = this.manager.get(id);
    session.signal(name);
    return session.toInfo();
  }

  /** The rendered terminal; with `scrollback`, that many lines above it too. */
  async screen(id: string, options: { scrollback?: number } = {}): Promise<ScreenSnapshot & { scrollback?: string[] }> {
    const session = this.manager.get(id);
    const screen = await session.screenSnapshot();
    return options.scrollback === undefined ? screen : { ...screen, scrollback: session.scrollback(options.scrollback) };
  }

  /** State transitions after `afterSeq`. */
  events(id: string, afterSeq: number, limit: number): StateEvent[] {
    return this.manager.events(id, afterSeq, limit);
  }

  /** Command and prompt history after `afterSeq`. */
  commands(id: string, afterSeq: number, limit: number): CommandRecord[] {
    this.manager.info(id);
    return this.manager.store.listCommands(id, { afterSeq, limit });
  }

  /** Output by cursor, from memory or (after a restart) the journal on disk. */
  output(id: string, options: OutputReadOptions): OutputRead {
    return this.manager.readOutput(id, options);
  }

  /** The line view of output, filtered by include/exclude regexes. */
  lines(id: string, options: LinesOptions): LinesResult {
    const ended = this.manager.find(id)?.isLive !== true;
    return lineView(this.readerFor(id, options.stream), {
      since: options.since,
      include: options.include,
      exclude: options.exclude,
      ignoreCase: options.ignoreCase,
      limit: options.limit,
      ended,
    });
  }

  /** Searches a session's kept output (memory and journal) for a regex. */
  search(id: string, options: SearchOptions): SearchResult {
    const info = this.manager.info(id);
    const stream = options.stream;
    const end = stream === 'combined' ? info.output.totalBytes : stream === 'stdout' ? info.output.stdoutBytes : info.output.stderrBytes;
    return searchOutput(this.readerFor(id, stream), {
      pattern: options.pattern,
      ignoreCase: options.ignoreCase,
      since: options.since,
      limit: options.limit,
      end,
    });
  }

  /** A one-shot command in a pipe session; past its timeout it keeps running and the reply names it. */
  exec(request: ExecRequest, signal?: AbortSignal, caller?: ScopedCaller): Promise<ExecResult> {
    return this.manager.exec(request, signal, caller);
  }

  /** A command in a shell session, between the shell's own marks; SESSION_BUSY while another one runs. */
  async shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    return shellExec(this.manager.get(id), this.manager.history, request, signal);
  }

  private readerFor(id: string, stream: OutputReadOptions['stream']): RawReader {
    return rawReaderOf((options) => this.manager.readOutput(id, options), stream);
  }
}
