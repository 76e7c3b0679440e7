// The engine's front door: creates, finds, lists and ends sessions, enforces limits, persists everything to the
// store, recovers after a crash and shuts down cleanly. Every face (REST, WebSocket, MCP, CLI, dashboard) calls
// this; it knows nothing of any of them.

import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, rmSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CorralError } from '../protocol/errors.js';
import { Emitter, type Event } from '../common/lifecycle.js';
import type {
  CreateSessionRequest,
  ExecRequest,
  ExecResult,
  WaitRequest,
} from '../protocol/api.js';
import type { ExitInfo, OutputRead, SessionInfo, SessionState, StateEvent } from '../protocol/sessionTypes.js';
import { ChildProcessBackend } from './backends/ChildProcessBackend.js';
import { NativePtyBackend } from './backends/NativePtyBackend.js';
import { NodePtyBackend } from './backends/NodePtyBackend.js';
import type { ProcessBackend } from './backends/ProcessBackend.js';
import type { EngineConfig } from './EngineConfig.js';
import { OutputJournal } from './output/OutputJournal.js';
import { OutputStream } from './output/OutputStream.js';
import { OrphanReaper } from './process/OrphanReaper.js';
import { findSessionProcesses, treeUsage } from './process/processTree.js';
import { terminateProcessTree } from './process/treeKiller.js';
import { ProfileRegistry } from './profiles/ProfileRegistry.js';
import { buildChildEnv } from './security/childEnv.js';
import { compileUserPattern } from './security/userPattern.js';
import { CwdPolicy } from './security/cwdPolicy.js';
import { Session, SESSION_MARKER_ENV, type SessionSpec, type WaitOutcome } from './Session.js';
import { integrateShellAtSpawn } from './shell/shellIntegration.js';
import { applyTemplate } from './templates/templates.js';
import { readView, type ReadOptions } from './output/readView.js';
import { AgentService } from './agent/AgentService.js';
import type { EngineEvent } from '../protocol/events.js';
import type { EngineStore, StoredSession } from './ports.js';
import { CommandHistory } from './history/CommandHistory.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type EngineLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface CreateResult {
  session: Session;
  /** True when a live session for the task already existed and was returned. */
  existing: boolean;
}

/** Default terminal size when the caller gives none (the classic 80x24 is too narrow for agent TUIs). */
const DEFAULT_COLS = 120;
const DEFAULT_ROWS = 40;
/** Default `POST /exec` timeout: long enough for a build step, short enough that a forgotten call returns. */
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
/** Default bytes of each stream that `POST /exec` returns inline. */
const DEFAULT_EXEC_OUTPUT_BYTES = 1024 * 1024;
/** Info of a live session is re-saved at most this often for counters and usage (state changes save at once). */
const INFO_SAVE_INTERVAL_MS = 2000;
/** Retention is about days; checking hourly keeps the store within an hour of the policy at no cost. */
const RETENTION_CHECK_INTERVAL_MS = 60 * 60 * 1000;

export class SessionManager {
  private readonly live = new Map<string, Session>();
  /** Ended sessions kept in memory, oldest first (Map keeps insertion order). */
  private readonly ended = new Map<string, Session>();
  private readonly profiles: ProfileRegistry;
  readonly cwdPolicy: CwdPolicy;
  private readonly ptyBackend: ProcessBackend;
  private readonly pipeBackend: ProcessBackend;
  private readonly reaper = new OrphanReaper();
  private accepting = true;
  private usageTimer: NodeJS.Timeout | null = null;
  private infoTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly dirtyInfo = new Set<string>();
  private readonly eventEmitter = new Emitter<EngineEvent>();
  readonly onEvent: Event<EngineEvent> = this.eventEmitter.event;
  readonly startedAt = new Date().toISOString();
  private readonly counters = { created: 0, exited: 0, spawnFailed: 0 };
  /** Agent sessions: hook reports, launch preparation, prompt/answer, worktree cleanup. */
  readonly agents: AgentService;
  /** Command and prompt history of every session (persisted; finished entries become engine events). */
  readonly history: CommandHistory;

  constructor(
    readonly config: EngineConfig,
    readonly store: EngineStore,
    private readonly log: EngineLogger,
    backends?: { pty?: ProcessBackend; pipe?: ProcessBackend },
  ) {
    this.profiles = new ProfileRegistry([
      ...[join(import.meta.dirname, '..', '..', 'profiles')].filter(existsSync),
      ...config.profileDirs,
    ]);
    this.cwdPolicy = new CwdPolicy(config.roots);
    this.ptyBackend = backends?.pty ?? (config.ptyBackend === 'node-pty' ? new NodePtyBackend() : new NativePtyBackend());
    this.pipeBackend = backends?.pipe ?? new ChildProcessBackend();
    this.history = new CommandHistory(store);
    this.history.onFinished((command) => this.eventEmitter.fire({ type: 'command.finished', sessionId: command.sessionId, command }));
    this.agents = new AgentService({
      dataDir: config.dataDir,
      history: this.history,
      sessionDir: (id) => this.sessionDir(id),
      resolveCwd: (path) => this.cwdPolicy.resolve(path),
      log,
    });
  }

  /** Becomes the subreaper, recovers what a crash left behind, starts the periodic samplers. */
  async start(): Promise<{ subreaper: boolean; recovered: number }> {
    const { subreaper } = this.reaper.start();
    const recovered = await this.recoverAfterCrash();
    await this.agents.start();
    this.usageTimer = setInterval(() => this.sampleUsage(), this.config.usageSampleMs);
    this.usageTimer.unref();
    this.infoTimer = setInterval(() => this.saveDirtyInfo(), INFO_SAVE_INTERVAL_MS);
    this.infoTimer.unref();
    if (this.config.retentionMs !== null) {
      this.applyRetention();
      this.retentionTimer = setInterval(() => this.applyRetention(), RETENTION_CHECK_INTERVAL_MS);
      this.retentionTimer.unref();
    }
    return { subreaper, recovered };
  }

  get profileRegistry(): ProfileRegistry {
    return this.profiles;
  }

  // ---- create ----------------------------------------------------------------------------------------------

  /** `internal.cwd`: a directory Corral made itself (a task's git worktree), used without the roots check. */
  create(request: CreateSessionRequest, internal: { cwd?: string } = {}): CreateResult {
    if (!this.accepting) throw new CorralError('SHUTTING_DOWN', 'The daemon is shutting down; no new sessions.');
    request = applyTemplate(this.store, request);
    if (request.taskId !== undefined && request.forceNew !== true) {
      const existing = this.liveSessionForTask(request.taskId);
      if (existing !== undefined) return { session: existing, existing: true };
    }
    if (this.live.size >= this.config.maxLiveSessions) {
      throw new CorralError(
        'SESSION_LIMIT',
        `${this.live.size} sessions are live, the configured maximum. End one (DELETE /api/v1/sessions/{id}) first.`,
        { details: { live: this.live.size, max: this.config.maxLiveSessions } },
      );
    }
    const spec = this.buildSpec(request, internal.cwd);
    const session = new Session(spec, {
      backend: spec.kind === 'pty' ? this.ptyBackend : this.pipeBackend,
      createStream: (channel) => this.createStream(spec.id, channel),
      graces: this.config.graces,
      onDirectChild: (pid, alive) => (alive ? this.reaper.registerDirectChild(pid) : this.reaper.forgetDirectChild(pid)),
      liveRootPids: () => this.reaper.registeredChildren,
      log: (level, message, fields) => this.log(level, message, { session: spec.id, ...fields }),
    });
    this.live.set(session.id, session);
    this.counters.created++;
    session.onStateChange((event) => this.handleState(session, event));
    session.onInfoChanged(() => this.dirtyInfo.add(session.id));
    session.onExit((exit) => this.handleExit(session, exit));
    if (spec.profile.agent !== undefined) this.agents.attach(session);
    // Every row a start writes (the session, its first events, the row again with the pid) in one commit.
    let startError: unknown = null;
    this.store.batch(() => {
      // The row first: events reference it.
      this.save(session);
      this.store.appendEvent(session.id, session.initialEvent());
      // Created comes before anything start() reports (its first state change), so every subscriber sees a
      // session's events in order; pid and startedAt follow in that first state event.
      this.eventEmitter.fire({ type: 'session.created', session: session.toInfo() });
      try {
        session.start();
      } catch (error) {
        startError = error;
      }
      this.save(session);
      this.pendingSaves.delete(session.id);
    });
    if (startError !== null) {
      this.counters.spawnFailed++;
      this.log('warn', 'session failed to start', { session: session.id, error: (startError as Error).message });
      throw startError;
    }
    return { session, existing: false };
  }

  private buildSpec(request: CreateSessionRequest, trustedCwd?: string): SessionSpec {
    const profileName = request.profile ?? (request.command === undefined ? 'shell' : 'command');
    const profile = this.profiles.get(profileName);
    const cwd = trustedCwd ?? this.cwdPolicy.resolve(request.cwd);
    const id = newSessionId();
    const launch = this.agents.prepareLaunch(id, profile, request, cwd);
    const explicitEnv = { ...profile.env, ...(request.env ?? {}), ...launch.env };
    for (const name of request.secretEnv ?? []) {
      if (!(name in explicitEnv)) {
        throw new CorralError('VALIDATION_FAILED', `secretEnv names ${name}, which is not in env.`, { details: { name } });
      }
    }
    const kind = request.kind ?? profile.kind;
    const childEnv = buildChildEnv({
      daemonEnv: process.env,
      explicit: explicitEnv,
      allowed: this.config.allowEnv,
      internal: {
        [SESSION_MARKER_ENV]: id,
        ...(kind === 'pty' ? { TERM: 'xterm-256color', COLORTERM: 'truecolor' } : {}),
        ...launch.internalEnv,
      },
    });
    const argv = (request.command ?? profile.command).map((arg) =>
      arg === '${SHELL}' ? (process.env.SHELL ?? '/bin/bash') : arg,
    );
    const [file, ...args] = argv;
    if (file === undefined) {
      throw new CorralError('VALIDATION_FAILED', `Profile ${profile.name} has no default command: give "command".`);
    }
    const executable = resolveExecutable(file, childEnv.PATH ?? '', cwd);
    const shell = integrateShellAtSpawn({
      dir: join(this.sessionDir(id), 'shell'),
      stateDetection: profile.stateDetection,
      kind,
      argv: [executable, ...args, ...launch.args],
      callerEnv: explicitEnv,
    });
    Object.assign(childEnv, shell.env);
    return {
      id,
      name: request.name ?? null,
      taskId: request.taskId ?? null,
      profile,
      kind,
      command: shell.argv,
      cwd,
      explicitEnv,
      secretEnvNames: [...(request.secretEnv ?? []), ...launch.secretEnv],
      autoAnswer: launch.autoAnswer,
      childEnv,
      cols: request.cols ?? DEFAULT_COLS,
      rows: request.rows ?? DEFAULT_ROWS,
      labels: request.labels ?? {},
      limits: {
        maxLifetimeMs: request.limits?.maxLifetimeMs ?? null,
        idleTimeoutMs: request.limits?.idleTimeoutMs ?? null,
        openFiles: request.limits?.openFiles ?? null,
        processes: request.limits?.processes ?? null,
        cpuSeconds: request.limits?.cpuSeconds ?? null,
        memoryBytes: request.limits?.memoryBytes ?? null,
      },
      ...(shell.integration === undefined ? {} : { shellIntegration: shell.integration }),
    };
  }

  private sessionDir(id: string): string {
    return join(this.config.dataDir, 'sessions', id);
  }

  private createStream(id: string, channel: 'combined' | 'stdout' | 'stderr'): OutputStream {
    const dir = join(this.sessionDir(id), channel);
    return new OutputStream(this.config.ringBytes, OutputJournal.create(dir, { capBytes: this.config.journalCapBytes }));
  }

  // ---- find ------------------------------------------------------------------------------------------------

  /** A session in memory (live or recently ended). */
  find(id: string): Session | undefined {
    return this.live.get(id) ?? this.ended.get(id);
  }

  /** A live or in-memory session, or SESSION_NOT_FOUND naming the live ones. */
  get(id: string): Session {
    const session = this.find(id);
    if (session !== undefined) return session;
    if (this.store.getSession(id) !== undefined) {
      throw new CorralError('SESSION_NOT_RUNNING', `Session ${id} has ended and is only in the store.`, {
        details: { id },
      });
    }
    throw this.notFound(id);
  }

  notFound(id: string): CorralError {
    const liveIds = [...this.live.keys()].slice(0, 20);
    return new CorralError(
      'SESSION_NOT_FOUND',
      `No session "${id}". ${liveIds.length === 0 ? 'No sessions are live.' : `Live sessions: ${liveIds.join(', ')}.`}`,
      { details: { id } },
    );
  }

  /** Info of any session ever recorded: memory first, then the store. */
  info(id: string): SessionInfo {
    const session = this.find(id);
    if (session !== undefined) return session.toInfo();
    const stored = this.store.getSession(id);
    if (stored !== undefined) return stored.info;
    throw this.notFound(id);
  }

  liveSessions(): Session[] {
    return [...this.live.values()];
  }

  liveSessionForTask(taskId: string): Session | undefined {
    for (const session of this.live.values()) {
      if (session.spec.taskId === taskId && session.state !== 'terminating') return session;
    }
    return undefined;
  }

  list(query: { state?: SessionState; taskId?: string; profile?: string; live?: boolean; limit: number; cursor?: string }): {
    sessions: SessionInfo[];
    nextCursor: string | null;
  } {
    // Live sessions' in-memory info is fresher than the store's; the store gives order and paging (and filters
    // by state, so states changed this tick are saved first).
    this.flushPendingSaves();
    this.saveDirtyInfo();
    const page = this.store.listSessions(query);
    return {
      sessions: page.sessions.map((stored) => this.find(stored.info.id)?.toInfo() ?? stored.info),
      nextCursor: page.nextCursor,
    };
  }

  /** Output of any session: from memory when it is there, else from its journal on disk (after a restart). */
  readOutput(id: string, options: ReadOptions): OutputRead {
    const session = this.find(id);
    if (session !== undefined) return session.readOutput(options);
    const stored = this.store.getSession(id);
    if (stored === undefined) throw this.notFound(id);
    return this.readArchivedOutput(stored, options);
  }

  private readArchivedOutput(stored: StoredSession, options: ReadOptions): OutputRead {
    if (options.stream !== 'combined' && stored.info.kind !== 'pipe') {
      throw new CorralError('NOT_SUPPORTED_FOR_KIND', `Session ${stored.info.id} has no separate ${options.stream}.`);
    }
    const dir = join(this.sessionDir(stored.info.id), options.stream);
    const journal = existsSync(dir) ? OutputJournal.open(dir, { capBytes: this.config.journalCapBytes }) : null;
    const stream = new OutputStream(0, journal);
    try {
      return readView(stream, options, false); // an archived session writes no more
    } finally {
      void stream.close();
    }
  }

  events(id: string, afterSeq: number, limit: number): StateEvent[] {
    this.info(id);
    return this.store.listEvents(id, { afterSeq, limit });
  }

  // ---- act -------------------------------------------------------------------------------------------------

  async wait(id: string, request: WaitRequest, signal?: AbortSignal): Promise<{ matched: boolean; outcome: WaitOutcome; session: SessionInfo }> {
    const session = this.find(id);
    if (session === undefined) {
      // Ended and gone from memory: only "exit" can still be true.
      const info = this.info(id);
      const matched = request.exit === true || (request.states?.includes(info.state) ?? false);
      return { matched, outcome: matched ? 'exit' : 'timeout', session: info };
    }
    let pattern: RegExp | undefined;
    if (request.pattern !== undefined) pattern = compilePattern(request.pattern);
    const outcome = await session.waitFor(
      { states: request.states, pattern, since: request.since, screen: request.screen, exit: request.exit },
      request.timeoutMs,
      signal,
    );
    const matched =
      outcome === 'state' || outcome === 'pattern' || (outcome === 'exit' && (request.exit === true || (request.states?.includes('terminated') ?? false)));
    return { matched, outcome, session: session.toInfo() };
  }

  /** Ends a session by the escalation of PRODUCT §1.6 and answers its final info. */
  async terminate(id: string, options: { force?: boolean } = {}): Promise<SessionInfo> {
    const session = this.find(id);
    if (session === undefined) return this.info(id);
    // force: straight to SIGKILL and the sweep, no polite steps, no graces (also hurries a termination under way).
    await session.terminate('killed', 'api', { force: options.force === true });
    await this.agents.cleanedUp(id);
    return session.toInfo();
  }

  /** POST /exec: a one-shot pipe session. Past the timeout it keeps running; the reply names it. */
  async exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    const started = performance.now();
    const command = typeof request.command === 'string' ? ['/bin/sh', '-c', request.command] : request.command;
    const { session } = this.create({
      profile: 'command',
      kind: 'pipe',
      command,
      cwd: request.cwd,
      env: request.env,
      name: request.name,
      taskId: request.taskId,
      forceNew: true,
    });
    if (request.stdin !== undefined) session.write(request.stdin);
    session.closeInput();
    const timeoutMs = request.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const outcome = await session.waitFor({ exit: true }, timeoutMs, signal);
    const max = request.maxOutputBytes ?? DEFAULT_EXEC_OUTPUT_BYTES;
    const read = (stream: 'stdout' | 'stderr'): { text: string; truncated: boolean } => {
      const out = session.readOutput({ since: 0, format: 'raw', encoding: 'utf8', maxBytes: max, stream });
      return { text: out.data, truncated: out.gap > 0 || out.nextOffset < session.streamFor(stream).endOffset };
    };
    const stdout = read('stdout');
    const stderr = read('stderr');
    const exit = session.exit;
    return {
      stdout: stdout.text,
      stderr: stderr.text,
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      timedOut: outcome === 'timeout',
      truncated: stdout.truncated || stderr.truncated,
      sessionId: session.id,
      pid: session.pid,
      durationMs: Math.round(performance.now() - started),
    };
  }

  // ---- bookkeeping -----------------------------------------------------------------------------------------

  private handleState(session: Session, event: StateEvent): void {
    // The event row is written at once (it is the record); the session row, which only mirrors the state, is
    // re-saved once per tick however many transitions happened in it (an exec is two), and at exit directly.
    this.store.appendEvent(session.id, event);
    this.scheduleSave(session.id);
    this.eventEmitter.fire({ type: 'session.state', sessionId: session.id, event, session: session.toInfo() });
  }

  private readonly pendingSaves = new Set<string>();
  private isShutDown = false;

  private scheduleSave(id: string): void {
    if (this.pendingSaves.size === 0) setImmediate(() => this.flushPendingSaves());
    this.pendingSaves.add(id);
  }

  private flushPendingSaves(): void {
    // After shutdown the store may be closed; shutdown itself flushed what was pending.
    if (this.isShutDown) {
      this.pendingSaves.clear();
      return;
    }
    for (const pending of this.pendingSaves) {
      const session = this.find(pending);
      if (session !== undefined) this.save(session);
    }
    this.pendingSaves.clear();
  }

  private handleExit(session: Session, exit: ExitInfo): void {
    this.counters.exited++;
    this.live.delete(session.id);
    this.history.forget(session.id);
    this.dirtyInfo.delete(session.id);
    this.save(session);
    // Saved final: a re-save scheduled by the last transition this tick would write the same row again.
    this.pendingSaves.delete(session.id);
    this.ended.set(session.id, session);
    while (this.ended.size > this.config.endedInMemory) {
      const oldest = this.ended.keys().next();
      if (oldest.done === true) break;
      const evicted = this.ended.get(oldest.value);
      this.ended.delete(oldest.value);
      void evicted?.dispose();
    }
    this.eventEmitter.fire({ type: 'session.exited', sessionId: session.id, exit, session: session.toInfo() });
  }

  private save(session: Session): void {
    const identity = session.identity;
    this.store.saveSession({
      info: session.toInfo(),
      runtime: { pid: identity?.pid ?? null, pidStartTime: identity?.startTime ?? null, pgid: identity?.pid ?? null },
    });
  }

  private saveDirtyInfo(): void {
    for (const id of this.dirtyInfo) {
      const session = this.live.get(id);
      if (session !== undefined) this.save(session);
    }
    this.dirtyInfo.clear();
  }

  private sampleUsage(): void {
    const sampledAt = new Date().toISOString();
    for (const session of this.live.values()) {
      const root = session.identity;
      if (root === null) continue;
      const usage = treeUsage(findSessionProcesses({ root }));
      session.setUsage({ ...usage, sampledAt });
      this.dirtyInfo.add(session.id);
    }
  }

  /**
   * After a crash (kill -9 of the daemon) the store still calls some sessions live. Whatever is left of their
   * trees is killed (pid + start time checked, marker env for escaped descendants) and they end as `lost`.
   */
  private async recoverAfterCrash(): Promise<number> {
    const stale = this.store.listLiveSessions();
    for (const stored of stale) {
      const { pid, pidStartTime, pgid } = stored.runtime;
      if (pid !== null && pidStartTime !== null) {
        await terminateProcessTree({
          root: { pid, startTime: pidStartTime },
          pgid,
          marker: { key: SESSION_MARKER_ENV, value: stored.info.id },
          // The old daemon's sessions were re-parented away from us when it died.
          scope: 'system',
          politeGraceMs: 0,
          interruptGraceMs: 0,
          termGraceMs: this.config.graces.termMs,
        });
      }
      const at = new Date().toISOString();
      const exit: ExitInfo = { code: null, signal: null, reason: 'lost', forced: true, at };
      const lastSeq = this.store.listEvents(stored.info.id, { limit: 100_000 }).at(-1)?.seq ?? 0;
      this.store.appendEvent(stored.info.id, {
        seq: lastSeq + 1,
        from: stored.info.state,
        to: 'terminated',
        at,
        reason: 'lost: the daemon stopped without ending this session',
        source: 'process',
      });
      this.store.saveSession({
        info: { ...stored.info, state: 'terminated', stateReason: 'lost', stateSource: 'process', endedAt: at, exit },
        runtime: stored.runtime,
      });
      this.log('warn', 'session lost in a daemon crash; its leftover processes were ended', { session: stored.info.id });
    }
    return stale.length;
  }

  stats(): Record<string, unknown> {
    const byState: Record<string, number> = {};
    const byProfile: Record<string, number> = {};
    for (const session of this.live.values()) {
      byState[session.state] = (byState[session.state] ?? 0) + 1;
      byProfile[session.spec.profile.name] = (byProfile[session.spec.profile.name] ?? 0) + 1;
    }
    return {
      live: this.live.size,
      endedInMemory: this.ended.size,
      maxLiveSessions: this.config.maxLiveSessions,
      byState,
      byProfile,
      totals: { ...this.counters },
      startedAt: this.startedAt,
    };
  }

  /** Stops accepting work, ends every session by the usual escalation, flushes the store. */
  async shutdown(): Promise<void> {
    this.accepting = false;
    await Promise.all([...this.live.values()].map((session) => session.terminate('shutdown', 'api')));
    if (this.usageTimer !== null) clearInterval(this.usageTimer);
    if (this.infoTimer !== null) clearInterval(this.infoTimer);
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    this.flushPendingSaves();
    this.saveDirtyInfo();
    this.isShutDown = true;
    await Promise.all([...this.ended.values()].map((session) => session.dispose()));
    this.ended.clear();
    await this.agents.dispose();
    this.reaper.reapNow();
    this.reaper.dispose();
    this.eventEmitter.dispose();
  }

  /** Removes ended sessions older than the retention period, with their output on disk. */
  applyRetention(): number {
    if (this.config.retentionMs === null) return 0;
    const cutoff = new Date(Date.now() - this.config.retentionMs).toISOString();
    const ids = this.store.listSessionIdsEndedBefore(cutoff, 10_000);
    for (const id of ids) {
      const inMemory = this.ended.get(id);
      if (inMemory !== undefined) {
        this.ended.delete(id);
        void inMemory.dispose();
      }
      rmSync(this.sessionDir(id), { recursive: true, force: true });
    }
    return this.store.deleteSessionsEndedBefore(cutoff);
  }
}

export function newSessionId(): string {
  // 128 random bits, never derived from a pid (PRODUCT §1).
  return `s_${randomBytes(16).toString('base64url')}`;
}

/** Compiles a caller's regex, refusing bad ones with a stable code. */
/** A caller's wait pattern (multi-line: ^ and $ match at line ends); see userPattern.ts for what is refused. */
export function compilePattern(source: string, flags = 'm'): RegExp {
  return compileUserPattern(source, flags);
}

/** The executable `file` names: a path (relative to cwd) or a name looked up in PATH. */
export function resolveExecutable(file: string, path: string, cwd: string): string {
  const executable = (candidate: string): boolean => {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return true;
    } catch (error) {
      // ENOENT/EACCES/ENOTDIR: not an executable we can run; keep looking.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return false;
      throw error;
    }
  };
  if (file.includes('/')) {
    const full = isAbsolute(file) ? file : resolvePath(cwd, file);
    if (executable(full)) return full;
  } else {
    for (const dir of path.split(delimiter)) {
      if (dir === '') continue;
      const full = join(dir, file);
      if (executable(full)) return full;
    }
  }
  throw new CorralError('COMMAND_NOT_FOUND', `Cannot run "${file}": no such executable${file.includes('/') ? '' : ' in PATH'}.`, {
    details: { command: file },
  });
}

