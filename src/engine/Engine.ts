// The engine's one front door: every face (REST, WebSocket, MCP, dashboard, metrics) calls this and nothing else
// of the engine. It answers protocol shapes (SessionInfo, OutputRead, ...), never engine objects, except the
// narrow LiveSession handle a streaming face needs. It knows nothing of HTTP, MCP or any transport.

import type { Event } from '../common/lifecycle.js';
import type {
  AnswerRequest,
  ClaudeSessionRequest,
  CreateSessionRequest,
  ExecRequest,
  ExecResult,
  MacroBody,
  MacroRunResult,
  PromptRequest,
  ShellExecRequest,
  ShellExecResult,
  SignalName,
  TemplateBody,
  WaitRequest,
} from '../protocol/api.js';
import type { CommandRecord } from '../protocol/commandHistory.js';
import { CorralError } from '../protocol/errors.js';
import type { EngineEvent } from '../protocol/events.js';
import type {
  LinesResult,
  OutputRead,
  ScreenSnapshot,
  SearchResult,
  SessionInfo,
  SessionState,
  StateEvent,
} from '../protocol/sessionTypes.js';
import { AgentService, type PromptResult } from './agent/AgentService.js';
import type { ProcessBackend } from './backends/ProcessBackend.js';
import type { EngineConfig } from './EngineConfig.js';
import type {
  CreateReply,
  EngineStats,
  InputRequestParts,
  LinesOptions,
  LiveSession,
  OutputReadOptions,
  ProfileSummary,
  SearchOptions,
  SessionListQuery,
  SessionPageReply,
  TaskReply,
  WaitReply,
} from './engineTypes.js';
import { deleteMacro, getMacro, listMacros, putMacro, runMacro, type MacroRecord } from './macros/macros.js';
import type { EngineStore } from './ports.js';
import { lineView, rawReaderOf, searchOutput, type RawReader } from './search/outputSearch.js';
import { SessionManager, type EngineLogger } from './SessionManager.js';
import { shellExec } from './shell/ShellExec.js';
import { deleteTemplate, getTemplate, listTemplates, putTemplate, type TemplateRecord } from './templates/templates.js';

export interface EngineOptions {
  config: EngineConfig;
  store: EngineStore;
  log: EngineLogger;
  /** Replaces the PTY or pipe backend (tests, a future holder process). */
  backends?: { pty?: ProcessBackend; pipe?: ProcessBackend };
}

/** Sessions a task listing looks at: a task has a handful of sessions, never hundreds. */
const TASK_PAGE = 100;

/** Methods that answer a promise report errors by rejecting it, never by throwing before it exists. */
export class Engine {
  private readonly manager: SessionManager;
  private readonly store: EngineStore;
  /** Created, state changed, exited, command finished: for every session, in order. */
  readonly onEvent: Event<EngineEvent>;
  readonly sessions: EngineSessions;
  readonly tasks: EngineTasks;
  readonly agents: EngineAgents;
  readonly presets: { readonly templates: EngineTemplates; readonly macros: EngineMacros };
  readonly profiles: EngineProfiles;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.manager = new SessionManager(options.config, options.store, options.log, options.backends);
    this.onEvent = this.manager.onEvent;
    this.sessions = new EngineSessions(this.manager);
    this.tasks = new EngineTasks(this.manager);
    this.agents = new EngineAgents(this.manager);
    this.presets = { templates: new EngineTemplates(this.store), macros: new EngineMacros(this.store, this.manager) };
    this.profiles = new EngineProfiles(this.manager);
  }

  /** Becomes the subreaper, recovers what a crash left behind, starts the periodic samplers. */
  start(): Promise<{ subreaper: boolean; recovered: number }> {
    return this.manager.start();
  }

  /** Stops accepting work, ends every session by the usual escalation, flushes the store. */
  shutdown(): Promise<void> {
    return this.manager.shutdown();
  }

  /** Sessions by state and profile, totals since start. */
  stats(): EngineStats {
    // SessionManager.stats() builds `totals` from its counters; its declared return type is the looser record.
    return this.manager.stats() as EngineStats;
  }
}

/** Sessions of any profile or kind: create, find, drive, read, end. */
export class EngineSessions {
  constructor(private readonly manager: SessionManager) {}

  /** Idempotent per taskId unless forceNew: a live session of the task is answered with `existing: true`. */
  create(request: CreateSessionRequest): CreateReply {
    const { session, existing } = this.manager.create(request);
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

  /** Writes text and/or named keys; `eof` closes the input afterwards. */
  input(id: string, input: InputRequestParts): SessionInfo {
    const session = this.manager.get(id);
    session.sendInput(input.data, input.keys);
    if (input.eof === true) session.closeInput();
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
  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return this.manager.exec(request, signal);
  }

  /** A command in a shell session, between the shell's own marks; SESSION_BUSY while another one runs. */
  async shellExec(id: string, request: ShellExecRequest, signal?: AbortSignal): Promise<ShellExecResult> {
    return shellExec(this.manager.get(id), this.manager.history, request, signal);
  }

  private readerFor(id: string, stream: OutputReadOptions['stream']): RawReader {
    return rawReaderOf((options) => this.manager.readOutput(id, options), stream);
  }
}

/** Tasks: the sessions created under one taskId. */
export class EngineTasks {
  constructor(private readonly manager: SessionManager) {}

  /** The task's sessions, the live one first; TASK_NOT_FOUND when none was ever created. */
  get(taskId: string): TaskReply {
    const { newest, sessions } = this.sessionsOf(taskId);
    const live = this.manager.liveSessionForTask(taskId);
    return { taskId, session: live?.toInfo() ?? newest, sessions };
  }

  /** Terminates (and cleans up) every live session of the task. */
  async end(taskId: string): Promise<{ taskId: string; ended: SessionInfo[] }> {
    this.sessionsOf(taskId);
    const ended = await Promise.all(
      this.manager
        .liveSessions()
        .filter((s) => s.spec.taskId === taskId)
        .map((s) => this.manager.terminate(s.id)),
    );
    return { taskId, ended };
  }

  private sessionsOf(taskId: string): { newest: SessionInfo; sessions: SessionInfo[] } {
    const { sessions } = this.manager.list({ taskId, limit: TASK_PAGE });
    const newest = sessions[0];
    if (newest === undefined) throw new CorralError('TASK_NOT_FOUND', `No session was ever created for task "${taskId}".`);
    return { newest, sessions };
  }
}

/** Agent sessions: the Claude create with its task worktree, prompt and answer, per-profile stats. */
export class EngineAgents {
  constructor(private readonly manager: SessionManager) {}

  /**
   * `POST /sessions/claude`: idempotent per taskId unless forceNew. With `worktree`, a git worktree is made for the
   * task first and the session runs in it; it is removed with the session (unless `keep`), or at once if the session
   * cannot start.
   */
  async createClaude(body: ClaudeSessionRequest): Promise<CreateReply> {
    if (body.taskId !== undefined && body.forceNew !== true) {
      const existing = this.manager.liveSessionForTask(body.taskId);
      if (existing !== undefined) return { session: existing.toInfo(), existing: true };
    }
    const agents = this.manager.agents;
    const worktree = body.worktree;
    const path = worktree === undefined ? undefined : await agents.createWorktree({ ...worktree, keep: worktree.keep === true });
    try {
      const request = AgentService.claudeRequest(body, path === undefined ? body.projectPath : undefined);
      const { session, existing } = this.manager.create(request, { cwd: path });
      if (worktree !== undefined && path !== undefined) {
        agents.adoptWorktree(session.id, { repo: worktree.repo, path, keep: worktree.keep === true });
      }
      return { session: session.toInfo(), existing };
    } catch (error) {
      // The session never started: the worktree made for it goes too.
      if (worktree !== undefined && path !== undefined) await agents.discardWorktree(worktree.repo, path);
      throw error;
    }
  }

  /** Submits a prompt (bracketed paste, submit key) and waits for the turn to end or a question. */
  async prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptResult> {
    return this.manager.agents.prompt(this.manager.get(id), request, signal);
  }

  /** Answers the dialog on the session's screen by option number or text. */
  async answer(
    id: string,
    request: AnswerRequest,
    signal?: AbortSignal,
  ): Promise<{ dialog: string; choice: string; state: SessionState; session: SessionInfo }> {
    return this.manager.agents.answer(this.manager.get(id), request, signal);
  }

  /** Live sessions of the profile by state, prompts, turn durations, errors, hooks; PROFILE_NOT_FOUND if unknown. */
  stats(profile: string): Record<string, unknown> {
    this.manager.profileRegistry.get(profile);
    return this.manager.agents.stats(this.manager.liveSessions(), profile);
  }
}

/** Session templates: named presets of a create request (secret env values redacted in what they answer). */
export class EngineTemplates {
  constructor(private readonly store: EngineStore) {}

  list(): TemplateRecord[] {
    return listTemplates(this.store);
  }

  get(name: string): TemplateRecord {
    return getTemplate(this.store, name);
  }

  put(name: string, body: TemplateBody): TemplateRecord {
    return putTemplate(this.store, name, body);
  }

  delete(name: string): void {
    deleteTemplate(this.store, name);
  }
}

/** Macros: named step lists runnable on any session. */
export class EngineMacros {
  constructor(
    private readonly store: EngineStore,
    private readonly manager: SessionManager,
  ) {}

  list(): MacroRecord[] {
    return listMacros(this.store);
  }

  get(name: string): MacroRecord {
    return getMacro(this.store, name);
  }

  put(name: string, body: MacroBody): MacroRecord {
    return putMacro(this.store, name, body);
  }

  delete(name: string): void {
    deleteMacro(this.store, name);
  }

  /** Runs the macro's steps on a session; a result per step, the session's info after. */
  async run(sessionId: string, name: string, signal?: AbortSignal): Promise<MacroRunResult & { session: SessionInfo }> {
    const macro = getMacro(this.store, name);
    const session = this.manager.get(sessionId);
    return { ...(await runMacro(session, macro, signal)), session: session.toInfo() };
  }
}

/** The agent and command profiles loaded (built-ins, then the operator's). */
export class EngineProfiles {
  constructor(private readonly manager: SessionManager) {}

  list(): ProfileSummary[] {
    return this.manager.profileRegistry.list().map((p) => ({
      name: p.name,
      description: p.description,
      kind: p.kind,
      hasCommand: p.command.length > 0,
    }));
  }
}
