// Owns the sessions: creates, finds, lists and ends them and enforces the live limit, coordinating the parts that
// each own one concern (registry, spec, persistence, sampling, retention, exec, crash recovery). Engine.ts, the
// engine's front door, calls this; faces never do, and it knows nothing of any of them.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError } from '../protocol/errors.js';
import { Emitter, type Event } from '../common/lifecycle.js';
import type { CreateSessionRequest, ExecRequest, ExecResult, WaitRequest } from '../protocol/api.js';
import type { ExitInfo, OutputRead, SessionInfo, SessionState, StateEvent } from '../protocol/sessionTypes.js';
import type { EngineEvent } from '../protocol/events.js';
import { AgentService } from './agent/AgentService.js';
import { chooseBackends, type SessionBackends } from './backends/chooseBackends.js';
import type { EngineConfig } from './EngineConfig.js';
import type { EngineLogger } from './engineLogger.js';
import { execCommand } from './execCommand.js';
import { CommandHistory } from './history/CommandHistory.js';
import type { ReadOptions } from './output/readView.js';
import { OrphanReaper } from './process/OrphanReaper.js';
import type { EngineStore } from './ports.js';
import { ProfileRegistry } from './profiles/ProfileRegistry.js';
import { Retention } from './Retention.js';
import { CwdPolicy } from './security/cwdPolicy.js';
import { compileWaitPattern } from './security/userPattern.js';
import { Session, type RestoredState, type SessionSpec, type WaitOutcome } from './Session.js';
import { createSessionStream, readArchivedOutput, sessionDir, type OutputChannel } from './sessionFiles.js';
import type { OutputStream } from './output/OutputStream.js';
import { reattachSessions, type ReattachOutcome } from './sessionReattach.js';
import { SessionPersistence } from './SessionPersistence.js';
import { SessionRegistry } from './SessionRegistry.js';
import { buildSpec, toStoredSpec } from './sessionSpec.js';
import { applyTemplate } from './templates/templates.js';
import { UsageSampler } from './UsageSampler.js';

export type { EngineLogger } from './engineLogger.js';

export interface CreateResult {
  session: Session;
  /** True when a live session for the task already existed and was returned. */
  existing: boolean;
}

export class SessionManager {
  private readonly sessions: SessionRegistry;
  private readonly persistence: SessionPersistence;
  private readonly usage: UsageSampler;
  private readonly retention: Retention;
  private readonly profiles: ProfileRegistry;
  readonly cwdPolicy: CwdPolicy;
  private readonly backends: SessionBackends;
  private readonly reaper = new OrphanReaper();
  private accepting = true;
  private shuttingDown: Promise<void> | null = null;
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
    backends?: Partial<SessionBackends>,
  ) {
    this.profiles = new ProfileRegistry([
      ...[join(import.meta.dirname, '..', '..', 'profiles')].filter(existsSync),
      ...config.profileDirs,
    ]);
    this.cwdPolicy = new CwdPolicy(config.roots);
    this.backends = chooseBackends(config, backends);
    this.sessions = new SessionRegistry(config.endedInMemory);
    this.persistence = new SessionPersistence(store, this.sessions);
    this.usage = new UsageSampler(config.usageSampleMs, () => this.sessions.liveSessions(), (session) => this.persistence.markDirty(session.id));
    this.retention = new Retention(config.retentionMs, config.dataDir, store, this.sessions);
    this.history = new CommandHistory(store);
    this.history.onFinished((command) => this.eventEmitter.fire({ type: 'command.finished', sessionId: command.sessionId, command }));
    this.agents = new AgentService({
      dataDir: config.dataDir,
      history: this.history,
      sessionDir: (id) => sessionDir(config.dataDir, id),
      resolveCwd: (path) => this.cwdPolicy.resolve(path),
      log,
    });
  }

  /**
   * Becomes the subreaper, reattaches the sessions a previous daemon left running under holders (the rest of what
   * it left ends `lost`), starts the periodic samplers.
   */
  async start(): Promise<{ subreaper: boolean; recovered: number; reattach: ReattachOutcome }> {
    const { subreaper } = this.reaper.start();
    await this.agents.start();
    const reattach = await reattachSessions({
      store: this.store,
      config: this.config,
      backends: this.backends,
      profiles: this.profiles,
      log: this.log,
      build: (spec, streams, restored) => this.newSession(spec, streams, restored),
      adopt: (session) => {
        this.adopt(session);
        this.persistence.markDirty(session.id);
      },
    });
    this.usage.start();
    this.persistence.start();
    this.retention.start();
    return { subreaper, recovered: reattach.lost, reattach };
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
    const live = this.sessions.liveCount;
    if (live >= this.config.maxLiveSessions) {
      throw new CorralError(
        'SESSION_LIMIT',
        `${live} sessions are live, the configured maximum. End one (DELETE /api/v1/sessions/{id}) first.`,
        { details: { live, max: this.config.maxLiveSessions } },
      );
    }
    const spec = buildSpec(
      { dataDir: this.config.dataDir, profiles: this.profiles, cwdPolicy: this.cwdPolicy, agents: this.agents, allowEnv: this.config.allowEnv },
      request,
      internal.cwd,
    );
    const session = this.newSession(spec, (channel) => createSessionStream(this.config, spec.id, channel));
    this.adopt(session);
    this.counters.created++;
    try {
      this.persistence.recordStart(
        session,
        // Created comes before anything start() reports (its first state change), so every subscriber sees a
        // session's events in order; pid and startedAt follow in that first state event.
        () => this.eventEmitter.fire({ type: 'session.created', session: session.toInfo() }),
        () => {
          session.start();
          // In the same commit: what a later daemon needs to find, verify and resume it (deleted once it ended).
          const host = session.hostRecord;
          if (host !== null) {
            const { sessionId, ...holder } = host;
            this.store.saveHost({ sessionId, holder, spec: toStoredSpec(spec) });
          }
        },
      );
    } catch (error) {
      this.counters.spawnFailed++;
      this.log('warn', 'session failed to start', { session: session.id, error: (error as Error).message });
      throw error;
    }
    return { session, existing: false };
  }

  private newSession(spec: SessionSpec, createStream: (channel: OutputChannel) => OutputStream, restored?: RestoredState): Session {
    return new Session(
      spec,
      {
        backend: spec.kind === 'pty' ? this.backends.pty : this.backends.pipe,
        createStream,
        graces: this.config.graces,
        onDirectChild: (pid, alive) => (alive ? this.reaper.registerDirectChild(pid) : this.reaper.forgetDirectChild(pid)),
        liveRootPids: () => this.reaper.registeredChildren,
        log: (level, message, fields) => this.log(level, message, { session: spec.id, ...fields }),
      },
      restored,
    );
  }

  /** A new or reattached session joins the live ones: its events, persistence and agent hooks. */
  private adopt(session: Session): void {
    this.sessions.addLive(session);
    session.onStateChange((event) => this.handleState(session, event));
    session.onInfoChanged(() => this.persistence.markDirty(session.id));
    session.onExit((exit) => this.handleExit(session, exit));
    if (session.spec.profile.agent !== undefined) this.agents.attach(session);
  }

  // ---- find ------------------------------------------------------------------------------------------------

  /** A session in memory (live or recently ended). */
  find(id: string): Session | undefined {
    return this.sessions.find(id);
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
    const liveIds = this.sessions.someLiveIds();
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
    return this.sessions.liveSessions();
  }

  liveSessionForTask(taskId: string): Session | undefined {
    return this.sessions.liveForTask(taskId);
  }

  list(query: { state?: SessionState; taskId?: string; profile?: string; live?: boolean; limit: number; cursor?: string }): {
    sessions: SessionInfo[];
    nextCursor: string | null;
  } {
    // Live sessions' in-memory info is fresher than the store's; the store gives order and paging (and filters
    // by state, so states changed this tick are saved first).
    this.persistence.flush();
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
    return readArchivedOutput(this.config, stored, options);
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
    const pattern = request.pattern === undefined ? undefined : compileWaitPattern(request.pattern);
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
  exec(request: ExecRequest, signal?: AbortSignal): Promise<ExecResult> {
    return execCommand((create) => this.create(create).session, request, signal);
  }

  // ---- bookkeeping -----------------------------------------------------------------------------------------

  private handleState(session: Session, event: StateEvent): void {
    this.persistence.recordState(session, event);
    this.eventEmitter.fire({ type: 'session.state', sessionId: session.id, event, session: session.toInfo() });
  }

  private handleExit(session: Session, exit: ExitInfo): void {
    this.counters.exited++;
    this.history.forget(session.id);
    this.persistence.recordEnd(session);
    // The end is recorded: nothing needs the holder any more (it exits once the tree is gone).
    if (session.hosted) this.store.deleteHost(session.id);
    session.releaseHost();
    this.sessions.moveToEnded(session);
    this.eventEmitter.fire({ type: 'session.exited', sessionId: session.id, exit, session: session.toInfo() });
  }

  stats(): Record<string, unknown> {
    const byState: Record<string, number> = {};
    const byProfile: Record<string, number> = {};
    for (const session of this.sessions.liveSessions()) {
      byState[session.state] = (byState[session.state] ?? 0) + 1;
      byProfile[session.spec.profile.name] = (byProfile[session.spec.profile.name] ?? 0) + 1;
    }
    return {
      live: this.sessions.liveCount,
      endedInMemory: this.sessions.endedCount,
      maxLiveSessions: this.config.maxLiveSessions,
      byState,
      byProfile,
      totals: { ...this.counters },
      startedAt: this.startedAt,
    };
  }

  /**
   * Stops accepting work and flushes the store. `endSessions`: every session ends by the usual escalation;
   * otherwise sessions under holders keep running (journals flushed, holders let go, a later start reattaches)
   * and only the daemon's own children end.
   */
  shutdown(options: { endSessions: boolean } = { endSessions: true }): Promise<void> {
    // Once: the shutdown route ends the sessions and the daemon's stop that follows waits for the same work.
    this.shuttingDown ??= this.runShutdown(options);
    return this.shuttingDown;
  }

  private async runShutdown(options: { endSessions: boolean }): Promise<void> {
    this.accepting = false;
    await Promise.all(
      this.sessions.liveSessions().map((session) => {
        if (options.endSessions || !session.hosted) return session.terminate('shutdown', 'api');
        // A session already ending finishes here (its holder released) rather than wait for the next daemon.
        if (session.finishing) return session.whenTerminated();
        return this.detach(session);
      }),
    );
    this.usage.dispose();
    this.retention.dispose();
    this.persistence.close();
    await this.sessions.disposeEnded();
    await this.agents.dispose();
    this.reaper.reapNow();
    this.reaper.dispose();
    this.eventEmitter.dispose();
  }

  private async detach(session: Session): Promise<void> {
    this.persistence.flush();
    await session.detachHost();
    this.log('info', 'session left running under its holder', { session: session.id, pid: session.pid });
  }

  /** Removes ended sessions older than the retention period, with their output on disk. */
  applyRetention(): number {
    return this.retention.apply();
  }
}
