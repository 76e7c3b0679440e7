// Owns the sessions: creates, finds, lists and ends them and enforces the live limit, coordinating the parts that
// each own one concern (registry, spec, persistence, sampling, retention, exec, crash recovery). Engine.ts, the
// engine's front door, calls this; faces never do, and it knows nothing of any of them.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskHealth } from '../common/PeriodicTask.js';
import { CorralError } from '../protocol/errors.js';
import { Emitter, type Disposable, type Event } from '../common/lifecycle.js';
import type { CreateSessionRequest, ExecRequest, ExecResult, WaitRequest } from '../protocol/api.js';
import type { ExitInfo, OutputRead, SessionInfo, SessionState, StateEvent } from '../protocol/sessionTypes.js';
import type { EngineEvent } from '../protocol/events.js';
import { AgentService } from './agent/AgentService.js';
import { chooseBackends, type SessionBackends } from './backends/chooseBackends.js';
import type { EngineConfig } from './EngineConfig.js';
import type { EngineLogger } from './engineLogger.js';
import { execCommand } from './execCommand.js';
import { CommandHistory } from './history/CommandHistory.js';
import { recordTypedCommands } from './shell/TypedCommands.js';
import type { ReadOptions } from './output/readView.js';
import { OrphanReaper } from './process/OrphanReaper.js';
import { Containment } from './process/cgroups/Containment.js';
import type { EngineStore } from './ports.js';
import { ProfileRegistry } from './profiles/ProfileRegistry.js';
import { Retention } from './Retention.js';
import { CwdPolicy } from './security/cwdPolicy.js';
import { compileWaitPattern } from './security/userPattern.js';
import { Session, type RestoredState, type SessionSpec, type SpawnOutcome, type WaitOutcome } from './Session.js';
import { createSessionStream, pipeCheckpointFile, readArchivedOutput, sessionDir, type OutputChannel } from './sessionFiles.js';
import type { OutputStream } from './output/OutputStream.js';
import { reattachSessions, type ReattachOutcome } from './sessionReattach.js';
import { SessionPersistence } from './SessionPersistence.js';
import { SessionRegistry } from './SessionRegistry.js';
import { buildSpec, toStoredSpec } from './sessionSpec.js';
import { applyTemplate } from './templates/templates.js';
import { UsageSampler } from './UsageSampler.js';
import { isStoreRefusal, StoreWriter, type StorageHealth } from './StoreWriter.js';
import { probeSandbox, type SandboxSupport } from './sandbox/sandboxSupport.js';
import { sandboxExitFile } from './sandbox/sandboxPlan.js';
import { ScopedTokens, type TokenScope } from './tokens/ScopedTokens.js';
import { confineCreate } from './tokens/scopedCreate.js';
import type { SecurityRefusal } from '../protocol/events.js';

export type { EngineLogger } from './engineLogger.js';

/**
 * Shutdown gives the sessions their usual escalation (polite, SIGINT, SIGTERM graces, then SIGKILL) plus this for the
 * tree sweep and the last output; past it, what is still running is killed outright.
 */
const SHUTDOWN_MARGIN_MS = 3_000;
/** After the forced kill, shutdown waits at most this long more for the sessions to report their end, then goes on. */
const SHUTDOWN_FORCED_WAIT_MS = 2_000;

/**
 * The documented bound on `shutdown()` ending the sessions, whatever they or the store do: the graces, the margin
 * and the forced wait (10 s with the default graces). Storing what is left costs one store busy timeout more.
 */
export function shutdownDeadlineMs(graces: EngineConfig['graces']): number {
  return graces.politeMs + graces.interruptMs + graces.termMs + SHUTDOWN_MARGIN_MS + SHUTDOWN_FORCED_WAIT_MS;
}

/** What `/healthz` details: the store and every guarded background task. */
export interface EngineHealth {
  ok: boolean;
  storage: StorageHealth;
  tasks: TaskHealth[];
  /** Whether session sandboxes can be made here (and why not). */
  sandbox: SandboxSupport;
}

/** Who asks, when it is a session's scoped token (the daemon's own token is unrestricted and passes none). */
export interface ScopedCaller {
  scope: TokenScope;
  face: SecurityRefusal['face'];
}

/** What only Corral's own callers (a task's worktree) add to a create. */
export interface CreateInternals {
  cwd?: string;
  worktree?: { repo: string; path: string; keep: boolean };
  caller?: ScopedCaller;
}

export interface CreateResult {
  session: Session;
  /** True when a live session for the task already existed and was returned. */
  existing: boolean;
}

export class SessionManager {
  private readonly sessions: SessionRegistry;
  private readonly writer: StoreWriter;
  private readonly persistence: SessionPersistence;
  /** Engine events of a create in progress, fired only once its start is committed (a refused one never happened). */
  private heldEvents: EngineEvent[] | null = null;
  /** Sessions whose create the store refused, being killed: shutdown waits for them too. */
  private readonly discarding = new Set<Promise<void>>();
  /** Creates whose program is still starting: they count against the limit, and shutdown waits for them. */
  private readonly starting = new Set<Promise<CreateResult>>();
  /** The create of each task whose program is still starting: a second create of the task answers its session. */
  private readonly startingTasks = new Map<string, Promise<CreateResult>>();
  private readonly usage: UsageSampler;
  private readonly retention: Retention;
  private readonly profiles: ProfileRegistry;
  readonly cwdPolicy: CwdPolicy;
  private readonly backends: SessionBackends;
  /** What holds each session's tree: its own cgroup (v2 or v1), or the sweep alone; decided once at start. */
  readonly containment: Containment;
  private readonly reaper = new OrphanReaper({ log: (level, message, fields) => this.log(level, message, fields) });
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
  /** Tokens sessions hold to call Corral, each scoped to its session and task. */
  readonly tokens = new ScopedTokens((id) => this.sessions.find(id)?.isLive === true);
  private sandboxProbe: SandboxSupport | null = null;

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
    // Once per daemon: a forced cgroup mode that does not work here stops the start (never runs sessions uncontained).
    this.containment = Containment.detect(config.containment);
    this.sessions = new SessionRegistry(config.endedInMemory);
    this.writer = new StoreWriter(store, log);
    this.persistence = new SessionPersistence(store, this.sessions, this.writer, log);
    this.usage = new UsageSampler(
      config.usageSampleMs,
      () => this.sessions.liveSessions(),
      (session) => this.persistence.markDirty(session.id),
      log,
    );
    this.retention = new Retention(config.retentionMs, config.dataDir, store, this.sessions, log);
    this.history = new CommandHistory(store, this.writer);
    this.history.onFinished((command) => this.emit({ type: 'command.finished', sessionId: command.sessionId, command }));
    this.agents = new AgentService({
      dataDir: config.dataDir,
      history: this.history,
      sessionDir: (id) => sessionDir(config.dataDir, id),
      resolveCwd: (path) => this.cwdPolicy.resolve(path),
      log,
      versionRead: (session, version) => {
        const verifiedVersions = [...session.spec.profile.verifiedVersions];
        this.emit({
          type: 'agent.version',
          sessionId: session.id,
          version: { profile: session.spec.profile.name, version, verified: verifiedVersions.includes(version), verifiedVersions },
          session: session.toInfo(),
        });
      },
    });
  }

  /**
   * Becomes the subreaper, reattaches the sessions a previous daemon left running under holders (the rest of what
   * it left ends `lost`), starts the periodic samplers.
   */
  async start(): Promise<{ subreaper: boolean; recovered: number; reattach: ReattachOutcome }> {
    const { subreaper } = this.reaper.start();
    this.log('info', 'session containment', { mode: this.containment.mode, detail: this.containment.detail });
    const sandbox = this.sandboxSupport;
    if (!sandbox.available) this.log('warn', 'session sandboxes are unavailable: sandboxed sessions will be refused', { reason: sandbox.reason });
    await this.agents.start();
    this.writer.start();
    const reattach = await reattachSessions({
      store: this.store,
      config: this.config,
      backends: this.backends,
      profiles: this.profiles,
      log: this.log,
      containment: this.containment,
      build: (spec, streams, restored) => this.newSession(spec, streams, restored),
      adopt: (session, worktree) => {
        this.adopt(session);
        // After adopt (the agent service's exit handler): the worktree goes when the session ends, as before.
        if (worktree !== undefined) this.agents.adoptWorktree(session.id, worktree);
        this.persistence.markDirty(session.id);
      },
      // Announced like any other end: event streams and webhooks hear of what the restart found (the hub logs them).
      lost: ({ info, event, exit }) => {
        this.emit({ type: 'session.state', sessionId: info.id, event, session: info });
        this.emit({ type: 'session.exited', sessionId: info.id, exit, session: info });
      },
    });
    this.usage.start();
    this.persistence.start();
    await this.retention.start();
    return { subreaper, recovered: reattach.lost, reattach };
  }

  /** Whether this machine can make sandboxes: probed once (a tiny bwrap run), at start or at the first need. */
  get sandboxSupport(): SandboxSupport {
    this.sandboxProbe ??= probeSandbox(this.config.sandbox.bwrap);
    return this.sandboxProbe;
  }

  /**
   * A scoped token was used beyond its scope: logged, reported as a `security.refused` event of the session that
   * holds it, and answered with the TOKEN_SCOPE error the caller throws.
   */
  refuseScope(caller: ScopedCaller, action: string, target: string | null, message: string): CorralError {
    const refusal: SecurityRefusal = { code: 'TOKEN_SCOPE', face: caller.face, action, target, at: new Date().toISOString() };
    this.log('warn', 'scoped token refused', { session: caller.scope.sessionId, ...refusal });
    this.emit({ type: 'security.refused', sessionId: caller.scope.sessionId, refusal });
    return new CorralError('TOKEN_SCOPE', `${message} This token belongs to session ${caller.scope.sessionId}${caller.scope.taskId === null ? '' : ` (task ${caller.scope.taskId})`}.`, {
      details: { session: caller.scope.sessionId, taskId: caller.scope.taskId, target },
    });
  }

  get profileRegistry(): ProfileRegistry {
    return this.profiles;
  }

  // ---- create ----------------------------------------------------------------------------------------------

  /**
   * `internal.cwd`: a directory Corral made itself (a task's git worktree), used without the roots check;
   * `internal.worktree`: that worktree, removed when the session ends (recorded with its holder, so also after a
   * restart); `internal.caller`: a session's scoped token, confined to its own task (TOKEN_SCOPE otherwise).
   */
  async create(request: CreateSessionRequest, internal: CreateInternals = {}): Promise<CreateResult> {
    if (!this.accepting) throw new CorralError('SHUTTING_DOWN', 'The daemon is shutting down; no new sessions.');
    request = applyTemplate(this.store, request);
    const caller = internal.caller;
    if (caller !== undefined) {
      const parent = this.find(caller.scope.sessionId);
      request = confineCreate(
        request,
        caller.scope,
        parent?.isLive === true ? { cwd: parent.spec.cwd, sandbox: parent.spec.sandbox.info } : undefined,
        this.cwdPolicy,
        (message, target) => this.refuseScope(caller, 'create a session', target, message),
      );
    }
    const taskId = request.taskId !== undefined && request.forceNew !== true ? request.taskId : undefined;
    if (taskId !== undefined) {
      const existing = this.liveSessionForTask(taskId);
      if (existing !== undefined) return { session: existing, existing: true };
      // A create of the task still starting its program: its session is the task's.
      const starting = this.startingTasks.get(taskId);
      if (starting !== undefined) return { session: (await starting).session, existing: true };
    }
    const creating = this.createNew(request, internal);
    if (taskId !== undefined) {
      this.startingTasks.set(taskId, creating);
      void creating.then(
        () => this.startingTasks.delete(taskId),
        () => this.startingTasks.delete(taskId),
      );
    }
    this.starting.add(creating);
    void creating.then(
      () => this.starting.delete(creating),
      () => this.starting.delete(creating),
    );
    return creating;
  }

  private async createNew(request: CreateSessionRequest, internal: CreateInternals): Promise<CreateResult> {
    const live = this.sessions.liveCount + this.starting.size;
    if (live >= this.config.maxLiveSessions) {
      throw new CorralError(
        'SESSION_LIMIT',
        `${live} sessions are live, the configured maximum. End one (DELETE /api/v1/sessions/{id}) first.`,
        { details: { live, max: this.config.maxLiveSessions } },
      );
    }
    const spec = diskFullAsStorageFull(() =>
      buildSpec(
        {
          dataDir: this.config.dataDir,
          profiles: this.profiles,
          cwdPolicy: this.cwdPolicy,
          agents: this.agents,
          allowEnv: this.config.allowEnv,
          sandbox: { support: () => this.sandboxSupport, hooksDir: this.agents.hooks.socketDir },
          tokens: this.tokens,
          log: this.log,
        },
        request,
        internal.cwd,
      ),
    );
    const session = this.newSession(spec, (channel) => createSessionStream(this.config, spec.id, channel));
    // The program starts first, off the loop's back (a holder's start is a round trip); the session joins the live
    // ones and its record is written only with the outcome, in one commit as before.
    let spawned: SpawnOutcome;
    try {
      spawned = { proc: await session.spawnProcess() };
    } catch (error) {
      spawned = { error };
    }
    const listeners = this.adopt(session);
    const held: EngineEvent[] = [];
    this.heldEvents = held;
    try {
      this.persistence.recordStart(
        session,
        // Created comes before anything start() reports (its first state change), so every subscriber sees a
        // session's events in order; pid and startedAt follow in that first state event.
        () => this.emit({ type: 'session.created', session: session.toInfo() }),
        () => {
          session.start(spawned);
          // In the same commit: what a later daemon needs to find, verify and resume it (deleted once it ended).
          const host = session.hostRecord;
          if (host !== null) {
            const { sessionId, ...holder } = host;
            const worktree = internal.worktree;
            this.store.saveHost({ sessionId, holder, spec: { ...toStoredSpec(spec), ...(worktree === undefined ? {} : { worktree }) } });
          }
        },
      );
    } catch (error) {
      this.heldEvents = null;
      if (isStoreRefusal(error)) {
        // Issue 15: the store refused the start (locked, full disk). Nothing of it may remain: no process, no count,
        // no row (the commit rolled back), no event; the caller gets the refusal (503/507) and may retry.
        this.discard(session, listeners, spawned);
        this.log('warn', 'session not created: the store refused its record', { session: session.id, code: error.code });
        throw new CorralError(error.code, `No session was created: ${error.message}`, { cause: error });
      }
      this.counters.created++;
      for (const event of held) this.eventEmitter.fire(event);
      this.counters.spawnFailed++;
      this.log('warn', 'session failed to start', { session: session.id, error: (error as Error).message });
      throw error;
    }
    this.heldEvents = null;
    this.counters.created++;
    // Only a committed start owns the worktree (a refused or failed one leaves it to the caller to discard).
    if (internal.worktree !== undefined) this.agents.adoptWorktree(session.id, internal.worktree);
    for (const event of held) this.eventEmitter.fire(event);
    return { session, existing: false };
  }

  /**
   * Undoes a create the store refused: out of the registry at once, its process (and holder) killed, whether or not
   * start() took it before the refusal (a locked or read-only store refuses the first row, before start() runs).
   */
  private discard(session: Session, listeners: Disposable[], spawned: SpawnOutcome): void {
    this.sessions.removeLive(session.id);
    this.persistence.forget(session.id);
    // Nobody listens any more: the end below announces nothing and writes nothing.
    for (const listener of listeners) listener.dispose();
    // Then its memory and whatever output it wrote to disk: no row will ever point at that directory.
    const ending = session
      .abandon(spawned)
      .then(() => session.dispose())
      .then(() => rm(sessionDir(this.config.dataDir, session.id), { recursive: true, force: true }));
    const tracked = ending.then(
      () => undefined,
      (error: unknown) => this.log('error', 'could not end a session whose create was refused', { session: session.id, error: (error as Error).message }),
    );
    this.discarding.add(tracked);
    void tracked.finally(() => this.discarding.delete(tracked));
  }

  /** Fires an engine event, or holds it while a create is not yet committed. */
  private emit(event: EngineEvent): void {
    if (this.heldEvents !== null) this.heldEvents.push(event);
    else this.eventEmitter.fire(event);
  }

  private newSession(spec: SessionSpec, createStream: (channel: OutputChannel) => OutputStream, restored?: RestoredState): Session {
    return new Session(
      spec,
      {
        backend: spec.kind === 'pty' ? this.backends.pty : this.backends.pipe,
        containment: this.containment,
        createStream,
        graces: this.config.graces,
        onDirectChild: (pid, alive) => (alive ? this.reaper.registerDirectChild(pid) : this.reaper.forgetDirectChild(pid)),
        liveRootPids: () => this.reaper.registeredChildren,
        log: (level, message, fields) => this.log(level, message, { session: spec.id, ...fields }),
        storage: () => {
          const queued = this.writer.queuedFor(spec.id) > 0;
          return { saved: !queued, problem: queued ? this.writer.currentProblem : null };
        },
        ...(this.config.screenDropAfterMs === undefined ? {} : { screenDropAfterMs: this.config.screenDropAfterMs }),
        sandboxExitFile: sandboxExitFile(sessionDir(this.config.dataDir, spec.id)),
        pipeCheckpointFile: pipeCheckpointFile(this.config.dataDir, spec.id),
      },
      restored,
    );
  }

  /** A new or reattached session joins the live ones: its events, persistence and agent hooks. */
  private adopt(session: Session): Disposable[] {
    this.sessions.addLive(session);
    const listeners = [
      session.onStateChange((event) => this.handleState(session, event)),
      session.onInfoChanged(() => this.persistence.markDirty(session.id)),
      session.onExit((exit) => this.handleExit(session, exit)),
    ];
    if (session.spec.profile.agent !== undefined) this.agents.attach(session);
    if (session.spec.scopedTokenHash !== undefined) this.tokens.restore(session.id, session.spec.taskId, session.spec.scopedTokenHash);
    const driver = session.driver;
    if (driver.kind === 'shell') listeners.push(recordTypedCommands(session, driver.detector, this.history));
    return listeners;
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

  /**
   * `DELETE …?purge=true`: ends the session if it is live (as terminate does), then removes its record, history,
   * events and output journal. Answers the session as it was last; afterwards the id is SESSION_NOT_FOUND.
   */
  async purge(id: string, options: { force?: boolean } = {}): Promise<SessionInfo> {
    const info = await this.terminate(id, options);
    // Writes still queued for it (its last state, a command's end) must reach the store before its row goes.
    this.persistence.flush();
    await this.writer.flushNow();
    this.retention.removeEnded(id);
    this.history.forget(id);
    return info;
  }

  /** Removes every ended session that ended more than `olderThanMs` ago; answers how many were removed. */
  prune(olderThanMs: number): { removed: number } {
    this.persistence.flush();
    return { removed: this.retention.removeEndedBefore(Date.now() - olderThanMs) };
  }

  /** POST /exec: a one-shot pipe session. Past the timeout it keeps running; the reply names it. */
  exec(request: ExecRequest, signal?: AbortSignal, caller?: ScopedCaller): Promise<ExecResult> {
    return execCommand(async (create) => (await this.create(create, { caller })).session, request, signal);
  }

  // ---- bookkeeping -----------------------------------------------------------------------------------------

  private handleState(session: Session, event: StateEvent): void {
    this.persistence.recordState(session, event);
    this.emit({ type: 'session.state', sessionId: session.id, event, session: session.toInfo() });
  }

  private handleExit(session: Session, exit: ExitInfo): void {
    this.counters.exited++;
    this.tokens.revoke(session.id);
    this.history.forget(session.id);
    this.persistence.recordEnd(session);
    // The end is recorded: nothing needs the holder any more (it exits once the tree is gone).
    if (session.hosted) this.forgetHost(session.id);
    session.releaseHost();
    this.sessions.moveToEnded(session);
    this.emit({ type: 'session.exited', sessionId: session.id, exit, session: session.toInfo() });
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

  /** The store and every guarded background task, for `/healthz` and metrics. */
  health(): EngineHealth {
    const storage = this.writer.health();
    const tasks = [this.reaper.health(), this.persistence.health(), this.usage.health(), this.retention.health(), this.writer.retryHealth(), this.journalHealth()];
    return { ok: storage.ok && tasks.every((task) => task.ok), storage, tasks, sandbox: this.sandboxSupport };
  }

  /**
   * Whether live sessions' output journals are writing: a journal refused by the disk (ENOSPC, EDQUOT, EIO) has an
   * open gap until it writes again. The store can be fine meanwhile (a disk out of inodes refuses new files only),
   * so this is health of its own: `/healthz` is degraded while any gap is open, and names the latest.
   */
  private journalHealth(): TaskHealth {
    const open = this.sessions
      .liveSessions()
      .flatMap((session) => session.toInfo().storage?.journalGaps.filter((gap) => gap.end === null).map((gap) => ({ session: session.id, gap })) ?? []);
    const latest = open.reduce<(typeof open)[number] | null>((last, entry) => (last === null || entry.gap.at > last.gap.at ? entry : last), null);
    return {
      name: 'output journals',
      ok: open.length === 0,
      consecutiveFailures: open.length,
      totalFailures: open.length,
      lastError:
        latest === null
          ? null
          : { code: latest.gap.code, message: `session ${latest.session}: its ${latest.gap.stream} journal has not written since offset ${latest.gap.start} (kept in memory meanwhile)`, at: latest.gap.at },
    };
  }

  /**
   * Stops accepting work and flushes the store. `endSessions`: every session ends by the usual escalation;
   * otherwise sessions under holders keep running (journals flushed, holders let go, a later start reattaches)
   * and only the daemon's own children end. Finishes within shutdownDeadlineMs whatever the sessions or the store
   * do: past it the rest is killed, and what the store refuses is logged as lost.
   */
  shutdown(options: { endSessions: boolean } = { endSessions: true }): Promise<void> {
    // Once: the shutdown route ends the sessions and the daemon's stop that follows waits for the same work.
    this.shuttingDown ??= this.runShutdown(options);
    return this.shuttingDown;
  }

  private async runShutdown(options: { endSessions: boolean }): Promise<void> {
    this.accepting = false;
    // Creates whose program is starting become live sessions (or fail) first: then they end or detach like the rest.
    await Promise.allSettled([...this.starting]);
    const live = this.sessions.liveSessions();
    const ending = Promise.all([
      ...live.map((session) => {
        if (options.endSessions || !session.hosted) return session.terminate('shutdown', 'api');
        // A session already ending finishes here (its holder released) rather than wait for the next daemon.
        if (session.finishing) return session.whenTerminated();
        return this.detach(session);
      }),
      ...this.discarding,
    ]);
    const graces = this.config.graces;
    if (!(await settlesWithin(ending, shutdownDeadlineMs(graces) - SHUTDOWN_FORCED_WAIT_MS))) {
      const stuck = live.filter((session) => session.isLive && (options.endSessions || !session.hosted || session.finishing));
      this.log('warn', 'sessions did not end within the shutdown deadline; killing them', { sessions: stuck.map((session) => session.id) });
      await settlesWithin(Promise.all(stuck.map((session) => session.terminate('shutdown', 'api', { force: true }))), SHUTDOWN_FORCED_WAIT_MS);
    }
    this.usage.dispose();
    this.retention.dispose();
    this.persistence.close();
    const unsaved = await this.writer.flushNow();
    if (unsaved > 0) {
      this.log('error', 'shutting down with records the store refused; they are lost', { unsaved, problem: this.writer.currentProblem?.code });
    }
    this.writer.dispose();
    await this.sessions.disposeEnded();
    await this.agents.dispose();
    this.reaper.reapNow();
    this.reaper.dispose();
    const cgroups = this.containment.release();
    if (cgroups.removed.length + cgroups.kept.length > 0) this.log('info', 'shared session cgroups', cgroups);
    this.eventEmitter.dispose();
  }

  /** Drops an ended session's holder row; if the store refuses, the next start finds the holder gone and says so. */
  private forgetHost(id: string): void {
    try {
      this.store.deleteHost(id);
    } catch (error) {
      if (!isStoreRefusal(error)) throw error;
      this.log('warn', 'the store refused to forget an ended session\'s holder; the next start will', { session: id, code: error.code });
    }
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

/** Resolves true when `promise` settled within `ms`, false when the time ran out first (the timer never outlives it). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  try {
    return await Promise.race([promise.then(() => true, () => true), sleep(ms, false, { signal: timeout.signal, ref: false })]);
  } finally {
    timeout.abort();
  }
}

/** A session's files (agent home, hook settings) written on a full disk: the caller gets STORAGE_FULL (507), not a 500. */
function diskFullAsStorageFull<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOSPC, EDQUOT: the disk (or the user's quota) is full; anything else is the caller's or ours to report as is.
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
    throw new CorralError('STORAGE_FULL', `No session was created: the disk is full (${(error as Error).message}).`, { cause: error });
  }
}
