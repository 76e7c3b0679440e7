// One session: a process tree under Corral's control, its output streams, rendered screen, state machine and
// timers. It knows no transport. It must never report `terminated` before the last output byte is in its
// stream, and never leave a process of its tree alive when it ends.

import { performance } from 'node:perf_hooks';
import { CorralError } from '../protocol/errors.js';
import { DisposableStore, Emitter, toDisposable, type Event } from '../common/lifecycle.js';
import type {
  ExitInfo,
  ExitReason,
  OutputRead,
  ScreenSnapshot,
  SessionInfo,
  SessionKind,
  SessionLimits,
  SessionState,
  StateEvent,
  StateSource,
  ResourceUsage,
  JournalGap,
  SessionStorage,
} from '../protocol/sessionTypes.js';
import { REDACTED } from '../protocol/sessionTypes.js';
import type { BackendProcess, HostRecord, OutputChannel as BackendChannel, ProcessBackend, ProcessStatus } from './backends/ProcessBackend.js';
import { OutputStream } from './output/OutputStream.js';
import { PipeCheckpoint, ResendFilter, type PipeOffsets } from './output/PipeCheckpoint.js';
import { readView, type ReadOptions } from './output/readView.js';
import { PatternScan, testPattern } from './output/PatternScan.js';
import { loneSurrogateIndex } from './output/utf8.js';
import { ScreenTracker } from './screen/ScreenTracker.js';
import { StateMachine } from './stateMachine.js';
import { withRlimits } from './security/rlimits.js';
import type { DetectorHost } from './detectors/StateDetector.js';
import { createDriver, type SessionDriver } from './SessionDriver.js';
import { SessionEnding } from './SessionEnding.js';
import type { Profile } from './profiles/profileSchema.js';
import { keyToBytes } from '../protocol/keys.js';
import { identify, type ProcessIdentity } from './process/ProcessIdentity.js';
import { signalGroup } from './process/signals.js';
import { sweepOrphans, terminateProcessTree } from './process/treeKiller.js';
import { SESSION_MARKER_KEY } from './process/processTree.js';
import type { Containment } from './process/cgroups/Containment.js';
import type { CgroupUsage, SessionCgroup } from './process/cgroups/SessionCgroup.js';
import type { TerminationGraces } from './EngineConfig.js';
import type { ShellIntegration } from './shell/shellIntegration.js';
import type { HookEvent } from './agent/HookServer.js';
import type { WaitOutcome } from '../protocol/apiReplies.js';
import type { SandboxDecision } from './sandbox/sandboxPlan.js';
import { sandboxedCommand } from './sandbox/bwrapCommand.js';
import { sandboxedExitStatus } from './sandbox/sandboxExit.js';

/** Env var set in every child: lets the tree sweep find descendants that left the process tree (setsid, double fork). */
export const SESSION_MARKER_ENV = SESSION_MARKER_KEY;
/** After the program exits on its own, what it left behind gets this long after SIGHUP (a closed terminal) before SIGTERM. */
const ORPHAN_HANGUP_GRACE_MS = 500;
/** After the tree is dead, how long the stream may take to reach EOF before we stop waiting for it. */
const CLOSE_AFTER_TREE_DEAD_MS = 3000;

export interface SessionSpec {
  id: string;
  name: string | null;
  taskId: string | null;
  profile: Profile;
  kind: SessionKind;
  command: string[];
  cwd: string;
  /** The environment the caller set explicitly (shown in replies, secrets redacted). */
  explicitEnv: Record<string, string>;
  secretEnvNames: string[];
  /** The full environment of the child. */
  childEnv: Record<string, string>;
  cols: number;
  rows: number;
  labels: Record<string, string>;
  limits: SessionLimits;
  /** Shell integration injected at spawn (shell-integration profiles in a terminal). */
  shellIntegration?: ShellIntegration;
  /** Agent sessions: dialogs (ids or `tool:<Name>`) answered automatically; opt-in, empty by default. */
  autoAnswer?: string[];
  /** The session's sandbox as its info shows it, and the plan its program is wrapped with at spawn (null: none). */
  sandbox: SandboxDecision;
  /** SHA-256 of the CORRAL_TOKEN scoped to this session, when it has one (the token itself is kept nowhere). */
  scopedTokenHash?: string;
}

/** What spawnProcess() gave: the running process, or why it did not start. */
export type SpawnOutcome = { proc: BackendProcess } | { error: unknown };

export interface SessionDeps {
  backend: ProcessBackend;
  /** Gives the session its own cgroup (or none, in sweep mode): the tree is held and killed by the kernel. */
  containment: Containment;
  /** Creates the output stream for a channel (the manager decides on journals and caps). */
  createStream(channel: 'combined' | 'stdout' | 'stderr'): OutputStream;
  graces: TerminationGraces;
  onDirectChild(pid: number, alive: boolean): void;
  /** Pids of every session's live main process (this one's included): the tree scans skip their environment. */
  liveRootPids(): ReadonlySet<number>;
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** Whether the store holds this session's latest records (the journal gaps are the session's own). */
  storage(): Omit<SessionStorage, 'journalGaps'>;
  /** How long an unread screen is kept before it is dropped (rebuilt from the output on the next read); tests shorten it. */
  screenDropAfterMs?: number;
  /** Where a sandboxed program's init says how it ended (sandboxExit.ts). */
  sandboxExitFile: string;
  /** Where a pipe session under a holder keeps its PipeCheckpoint. */
  pipeCheckpointFile: string;
}

/** What a session had when its daemon stopped: a restarted daemon rebuilds the session from it (issue 14). */
export interface RestoredState {
  createdAt: string;
  startedAt: string | null;
  state: SessionState;
  reason: string;
  source: StateSource;
  /** Seq of the session's last recorded event: the next one continues from it. */
  seq: number;
  cols: number;
  rows: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** The last input or output an earlier daemon recorded: the idle timeout counts from it, not from the reattach. */
  lastActivityAt?: string;
}

export interface WaitCondition {
  states?: SessionState[];
  /**
   * Regex tested on the text view of the output from `since` (default: the end of output when the wait starts), as
   * one text (not line by line); a match must fit in PATTERN_WINDOW_CHARS characters.
   */
  pattern?: RegExp;
  since?: number;
  /** Test the pattern on the rendered screen too. */
  screen?: boolean;
  exit?: boolean;
}

// What ended a wait is a wire type (protocol/apiReplies.ts), named here for the engine's callers.
export type { WaitOutcome };

function nowIso(): string {
  return new Date().toISOString();
}

export class Session {
  readonly id: string;
  readonly spec: SessionSpec;
  private readonly disposables = new DisposableStore();
  private readonly machine: StateMachine;
  readonly output: OutputStream;
  readonly stdout: OutputStream | null;
  readonly stderr: OutputStream | null;
  private screen: ScreenTracker | null = null;
  private proc: BackendProcess | null = null;
  private rootIdentity: ProcessIdentity | null = null;
  /** The session's own cgroup: everything the program starts is in it, whatever it does to its environment. */
  private cgroup: SessionCgroup | null = null;
  private cols: number;
  private rows: number;
  readonly createdAt: string;
  private startedAt: string | null = null;
  /** start() took spawnProcess()'s outcome (abandon() must not take it again). */
  private outcomeTaken = false;
  /** The end of a session whose spawn failed (start() ends it): what abandon() waits for. */
  private failedStart: Promise<void> | null = null;
  private lastActivityMono = performance.now();
  /** Why and how the session ends, and when it has. */
  private readonly ending = new SessionEnding();
  private usage: ResourceUsage | null = null;
  /** A pipe session's stdin was closed by closeInput(); input after it is refused, not silently dropped. */
  private inputClosed = false;
  private stdoutBytes = 0;
  private stderrBytes = 0;
  /** What drives the state, chosen by the profile (see SessionDriver); it starts with the process. */
  readonly driver: SessionDriver;
  /** Per holder channel, the offset up to which output awaits a journal flush before the holder may drop it. */
  private readonly unacknowledged = new Map<BackendChannel, number>();
  private acknowledging = false;
  /** The program has exited (its session is finishing: the sweep, the last bytes). */
  private programExited = false;
  /** True while a reattach replays the journal tail to the detector: it re-derives, the recorded state stands. */
  private replaying = false;
  /** Per stream, leading bytes a reattach's holder resends that the stream's journal already holds (PipeCheckpoint). */
  private resent = new ResendFilter();
  /** A pipe session under a holder: where its three journals were last on disk together, written before each ack. */
  private checkpoint: PipeCheckpoint | null = null;

  private readonly stateEmitter = new Emitter<StateEvent>();
  readonly onStateChange: Event<StateEvent> = this.stateEmitter.event;
  private readonly exitEmitter = new Emitter<ExitInfo>();
  readonly onExit: Event<ExitInfo> = this.exitEmitter.event;
  private readonly infoEmitter = new Emitter<void>();
  /** Something shown in the session info changed (size, pid, usage); coalesce before persisting. */
  readonly onInfoChanged: Event<void> = this.infoEmitter.event;

  constructor(
    spec: SessionSpec,
    private readonly deps: SessionDeps,
    restored?: RestoredState,
  ) {
    this.id = spec.id;
    this.spec = spec;
    this.cols = restored?.cols ?? spec.cols;
    this.rows = restored?.rows ?? spec.rows;
    this.createdAt = restored?.createdAt ?? nowIso();
    this.machine =
      restored === undefined
        ? new StateMachine({ state: 'initializing', reason: 'created', source: 'api' })
        : new StateMachine({ state: restored.state, reason: restored.reason, source: restored.source, seq: restored.seq });
    if (restored !== undefined) {
      this.startedAt = restored.startedAt;
      const lastActivity = restored.lastActivityAt === undefined ? NaN : Date.parse(restored.lastActivityAt);
      // On this process's monotonic clock: as long ago as it was (never in the future).
      if (Number.isFinite(lastActivity)) this.lastActivityMono = performance.now() - Math.max(0, Date.now() - lastActivity);
      this.stdoutBytes = restored.stdoutBytes;
      this.stderrBytes = restored.stderrBytes;
    }
    this.output = deps.createStream('combined');
    this.stdout = spec.kind === 'pipe' ? deps.createStream('stdout') : null;
    this.stderr = spec.kind === 'pipe' ? deps.createStream('stderr') : null;
    this.driver = createDriver(spec.profile.stateDetection, this.detectorHost(), spec.shellIntegration ?? null);
    this.disposables.add(this.driver.detector);
    this.disposables.add(this.stateEmitter);
    this.disposables.add(this.exitEmitter);
    this.disposables.add(this.infoEmitter);
  }

  /** The first event, recorded by the manager before start(). */
  initialEvent(): StateEvent {
    return this.machine.initialEvent(this.createdAt);
  }

  get state(): SessionState {
    return this.machine.state;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  get identity(): ProcessIdentity | null {
    return this.rootIdentity;
  }

  get exit(): ExitInfo | null {
    return this.ending.exit;
  }

  get isLive(): boolean {
    return this.machine.state !== 'terminated';
  }

  get lastEventSeq(): number {
    return this.machine.lastSeq;
  }

  /**
   * Starts the program; nothing of the session changes until `start()` takes the outcome (the manager records both
   * in one commit), but for the cgroup it will run in. Asynchronous because a holder's start is a round trip the
   * daemon's loop must not wait on.
   */
  async spawnProcess(): Promise<BackendProcess> {
    if (this.spec.command.length === 0) throw new CorralError('VALIDATION_FAILED', 'The command is empty.');
    // Outermost first: the program joins its cgroup before anything execs (corral-cgroup-enter), so the sandbox
    // and everything under it are inside; then its rlimits (prlimit); then the sandbox (bwrap), then the program.
    this.cgroup = this.deps.containment.create(this.id, this.spec.limits);
    const limited = withRlimits(this.spec.command, this.spec.limits);
    const plan = this.spec.sandbox.plan;
    const sandboxed = plan === null ? null : sandboxedCommand(plan, limited);
    const [file = '', ...args] = this.deps.containment.wrap(sandboxed?.argv ?? limited, this.cgroup, sandboxed ?? undefined);
    return this.deps.backend.spawn({
      kind: this.spec.kind,
      file,
      args,
      cwd: this.spec.cwd,
      env: this.spec.childEnv,
      cols: this.cols,
      rows: this.rows,
      sessionId: this.id,
    });
  }

  /**
   * Takes the outcome of spawnProcess(): the running process, or the reason it did not start, which is rethrown
   * after the session was terminated with reason spawn_failed (its cgroup removed).
   */
  start(spawned: SpawnOutcome): void {
    this.outcomeTaken = true;
    if ('error' in spawned) {
      if (!(spawned.error instanceof CorralError && spawned.error.code === 'VALIDATION_FAILED')) {
        this.ending.spawnFailed();
        this.failedStart = this.finish({ code: null, signal: null });
      }
      throw spawned.error;
    }
    this.startedAt = nowIso();
    this.attachProcess(spawned.proc);
    this.driver.detector.onStart();
    this.infoEmitter.fire();
  }

  /**
   * Undoes a start the store refused (issue 15): the session takes spawnProcess()'s outcome if start() never did
   * (the refusal can come before it ran, and nobody else holds that process or its holder), then ends whatever
   * runs at once (SIGKILL to the tree, the holder released). Resolves when nothing of the session runs any more.
   */
  async abandon(spawned: SpawnOutcome): Promise<void> {
    if (!this.outcomeTaken) {
      try {
        this.start(spawned);
      } catch {
        // The spawn had failed as well: start() ended the session (its cgroup removed), awaited below.
      }
    }
    if (this.proc !== null) {
      await this.terminate('killed', 'api', { force: true });
      this.releaseHost();
      return;
    }
    if (this.failedStart !== null) await this.failedStart;
  }

  /**
   * Takes over a process a previous daemon started (its holder was found and verified): the streams continue from
   * their journals' ends, the screen is rebuilt from `tail` (the journal's last bytes) and the detector re-derives
   * from it, while the recorded state stands until new output or hooks move it. `skip`: per stream, the leading bytes
   * of what the holder resends that the stream's journal already has (see planPipeResume).
   */
  reattach(proc: BackendProcess, tail: Buffer, skip: PipeOffsets = { combined: 0, stdout: 0, stderr: 0 }): void {
    this.resent = new ResendFilter(skip);
    // The cgroup an earlier daemon made for it (named after the session), so it still ends whole.
    this.cgroup = this.deps.containment.find(this.id);
    // An earlier daemon closed the pipe's stdin: input stays refused (INPUT_CLOSED), as it was.
    if (proc.host?.inputEnded === true) this.inputClosed = true;
    this.attachProcess(proc, this.output.endOffset - tail.length);
    this.replaying = true;
    try {
      this.driver.detector.onStart();
      if (tail.length > 0) this.driver.detector.onOutput(tail);
    } finally {
      this.replaying = false;
    }
    // The agent detector judges the screen as it changes: after the replay, so its verdict is live.
    if (tail.length > 0) this.screen?.write(tail);
    this.infoEmitter.fire();
  }

  /** `screenFrom`: the output offset of the first byte the screen will be fed (a reattach feeds the journal's tail). */
  private attachProcess(proc: BackendProcess, screenFrom = this.output.endOffset): void {
    this.proc = proc;
    const host = proc.host;
    if (host !== undefined && this.spec.kind === 'pipe') {
      const checkpoint = new PipeCheckpoint(this.deps.pipeCheckpointFile);
      this.checkpoint = checkpoint;
      this.disposables.add(toDisposable(() => checkpoint.close()));
    }
    // A holder's program is not our child: its holder reaps it (and the orphan reaper the holder).
    if (host === undefined) this.deps.onDirectChild(proc.pid, true);
    this.rootIdentity = host?.record.program ?? identify(proc.pid) ?? { pid: proc.pid, startTime: -1 };
    if (this.spec.kind === 'pty') {
      // Built when something reads it and dropped when nobody has for a while: it replays from the output stream.
      this.screen = new ScreenTracker(this.cols, this.rows, (reply) => this.proc?.write(reply), undefined, {
        history: this.output,
        startOffset: screenFrom,
        ...(this.deps.screenDropAfterMs === undefined ? {} : { dropAfterMs: this.deps.screenDropAfterMs }),
      });
      this.disposables.add(toDisposable(() => this.screen?.dispose()));
    }
    this.disposables.add(
      proc.onData((chunk) => {
        this.handleData(chunk.channel, chunk.data);
        if (chunk.offset !== undefined && proc.acknowledge !== undefined) this.acknowledgeLater(chunk.channel, chunk.offset + chunk.data.length);
      }),
    );
    this.disposables.add(proc.onProcessExit((status) => this.handleProcessExit(status)));
    this.disposables.add(proc.onClosed((status) => this.ending.streamClosed(status)));
    void this.ending.whenStreamClosed().then((status) => this.finish(status));
    this.armLimits();
  }

  /** The holder keeps output until we say it is in the journal (a daemon crash then loses nothing). */
  private acknowledgeLater(channel: BackendChannel, end: number): void {
    this.unacknowledged.set(channel, end);
    if (this.acknowledging) return;
    this.acknowledging = true;
    void this.acknowledgeLoop();
  }

  private async acknowledgeLoop(): Promise<void> {
    try {
      while (this.unacknowledged.size > 0) {
        const batch = [...this.unacknowledged];
        this.unacknowledged.clear();
        // Taken with the flush: every byte up to these ends is on disk once it resolves.
        const mark = this.pipeMark();
        try {
          await this.flushStreams();
        } catch (error) {
          // A journal that cannot write keeps nothing more; holding the bytes in the holder would only freeze the
          // program. The loss is the journal's to report (it moved firstAvailableOffset).
          this.deps.log('warn', 'output journal failed; acknowledging the holder anyway', { error: (error as Error).message });
        }
        // Before the ack: a checkpoint behind what the holder dropped would make a reattach ask for bytes it no longer has.
        if (mark !== null) this.checkpoint?.write(mark);
        for (const [channel, offset] of batch) this.proc?.acknowledge?.(channel, offset);
      }
    } finally {
      this.acknowledging = false;
    }
  }

  private async flushStreams(): Promise<void> {
    await Promise.all([this.output.flush(), this.stdout?.flush(), this.stderr?.flush()]);
  }

  /**
   * The streams' ends as one consistent triple (PipeCheckpoint): every appended byte is in combined and in its
   * channel's stream together, except resent bytes a stream still skips, which it holds already and are not counted.
   */
  private pipeMark(): PipeOffsets | null {
    if (this.stdout === null || this.stderr === null) return null;
    return {
      combined: this.output.endOffset - this.resent.remaining('combined'),
      stdout: this.stdout.endOffset - this.resent.remaining('stdout'),
      stderr: this.stderr.endOffset - this.resent.remaining('stderr'),
    };
  }

  /** Already on its way to `terminated` (its program exited, or a termination runs): nothing left to keep running. */
  get finishing(): boolean {
    return this.programExited || this.ending.terminating;
  }

  /** Whether the process outlives the daemon (runs under a holder): then a daemon stop can leave it running. */
  get hosted(): boolean {
    return this.proc?.host !== undefined;
  }

  /** Where the holder is, for the store (null when the session does not run under one). */
  get hostRecord(): HostRecord | null {
    return this.proc?.host?.record ?? null;
  }

  /** The end is recorded: the holder may exit once the tree is gone. */
  releaseHost(): void {
    this.proc?.host?.release();
  }

  /**
   * The daemon stops and the session keeps running under its holder: every byte received is flushed to the
   * journal, then the holder is let go (it keeps what comes next until a daemon reattaches). No event fires.
   */
  async detachHost(): Promise<void> {
    const host = this.proc?.host;
    if (host === undefined) return;
    const mark = this.pipeMark();
    await this.flushStreams();
    if (mark !== null) this.checkpoint?.write(mark);
    host.detach();
    this.disposables.dispose();
    await Promise.all([this.output.close(), this.stdout?.close(), this.stderr?.close()]);
  }

  // ---- output ----------------------------------------------------------------------------------------------

  /** Hot path: stream appends and a timestamp. Screen parsing and state rules run later. */
  private handleData(channel: 'pty' | 'stdout' | 'stderr', data: Buffer): void {
    const combined = this.resent.take('combined', data);
    this.output.append(combined);
    if (channel === 'stdout') {
      const fresh = this.resent.take('stdout', data);
      this.stdout?.append(fresh);
      this.stdoutBytes += fresh.length;
    } else if (channel === 'stderr') {
      const fresh = this.resent.take('stderr', data);
      this.stderr?.append(fresh);
      this.stderrBytes += fresh.length;
    }
    // The screen reads back from the combined stream, so it takes exactly the bytes the stream took.
    this.screen?.write(combined);
    this.lastActivityMono = performance.now();
    this.driver.detector.onOutput(data);
  }

  readOutput(options: ReadOptions): OutputRead {
    // Until terminated the program (or what it left behind) may still write: hold back a half-written character.
    return readView(this.streamFor(options.stream), options, this.isLive);
  }

  streamFor(name: 'combined' | 'stdout' | 'stderr'): OutputStream {
    if (name === 'combined') return this.output;
    const stream = name === 'stdout' ? this.stdout : this.stderr;
    if (stream === null) {
      throw new CorralError('NOT_SUPPORTED_FOR_KIND', `Session ${this.id} is a ${this.spec.kind} session: it has no separate ${name}.`);
    }
    return stream;
  }

  async screenSnapshot(): Promise<ScreenSnapshot> {
    if (this.screen !== null) {
      await this.screen.settled();
      return this.screen.snapshot();
    }
    const finalScreen = this.ending.finalScreen;
    if (finalScreen !== null) return finalScreen;
    throw new CorralError('NOT_SUPPORTED_FOR_KIND', `Session ${this.id} is a pipe session: it has no terminal screen.`);
  }

  scrollback(maxLines: number): string[] {
    return this.screen?.scrollback(maxLines) ?? [];
  }

  get screenTracker(): ScreenTracker | null {
    return this.screen;
  }

  // ---- input and control -----------------------------------------------------------------------------------

  private requireRunning(): BackendProcess {
    if (this.proc === null || this.machine.state === 'terminated' || this.machine.state === 'terminating') {
      throw new CorralError('SESSION_NOT_RUNNING', `Session ${this.id} is ${this.machine.state}; it takes no input.`, {
        details: { state: this.machine.state },
      });
    }
    return this.proc;
  }

  /** The process, when it takes input: running, and its stdin not closed by an earlier eof. */
  private requireInputOpen(): BackendProcess {
    const proc = this.requireRunning();
    if (this.inputClosed) {
      throw new CorralError(
        'INPUT_CLOSED',
        `Session ${this.id} had its stdin closed (eof); it takes no more input. Start a new session to send more.`,
        { details: { state: this.machine.state } },
      );
    }
    return proc;
  }

  /** Every face's input ends here (REST and MCP through sendInput, WebSocket frames directly). */
  write(data: string | Buffer): void {
    const proc = this.requireInputOpen();
    if (typeof data === 'string') requireUtf8Form(data);
    proc.write(data);
    this.lastActivityMono = performance.now();
    this.driver.detector.onInput(data);
  }

  private detectorHost(): DetectorHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the host is a narrow view of this session
    const session = this;
    return {
      sessionId: this.id,
      profile: this.spec.profile,
      get state() {
        return session.state;
      },
      get screen() {
        return session.screen;
      },
      output: this.output,
      setState: (to, reason, source) => this.setState(to, reason, source),
      write: (data) => this.proc?.write(data),
      log: (level, message, fields) => this.deps.log(level, message, fields),
      autoAnswer: this.spec.autoAnswer ?? [],
    };
  }

  /** A hook report from the program (agent CLIs); ignored before the start, once the session has ended, and by other drivers. */
  deliverHook(event: HookEvent): void {
    if (this.proc === null || this.machine.state === 'terminated') return;
    if (this.driver.kind === 'agent') this.driver.detector.onHook(event);
  }

  /** Text then named keys, in that order. Unknown key names are refused before anything is written. */
  sendInput(text: string | undefined, keys: string[] | undefined): void {
    const bytes: string[] = [];
    for (const key of keys ?? []) {
      const seq = keyToBytes(key);
      if (seq === undefined) {
        throw new CorralError('INVALID_KEY', `Unknown key "${key}". Keys look like Enter, Escape, Up, F5, C-c, M-x.`, {
          details: { key },
        });
      }
      bytes.push(seq);
    }
    const hasText = text !== undefined && text.length > 0;
    // Nothing to write (a bare eof request) is not refused once stdin is closed: a repeated eof is a no-op.
    if (hasText || bytes.length > 0) this.requireInputOpen();
    else this.requireRunning();
    if (hasText) this.write(text);
    if (bytes.length > 0) this.write(bytes.join(''));
  }

  /**
   * Closes a pipe session's stdin; later input is refused with INPUT_CLOSED. Idempotent: closing again is a no-op, so
   * a retried eof succeeds. A terminal has no separate stdin (EOF is Ctrl-D typed as input): there it does nothing.
   */
  closeInput(): void {
    const proc = this.requireRunning();
    if (this.spec.kind !== 'pipe' || this.inputClosed) return;
    this.inputClosed = true;
    proc.endInput();
  }

  /** Refused for a pipe session whatever its state: every face (REST, WebSocket) gets the same answer from here. */
  /** A new name (null: none); saved with the session's row, which a restarted daemon reads it back from. */
  rename(name: string | null): void {
    this.spec.name = name;
    this.infoEmitter.fire();
  }

  resize(cols: number, rows: number): void {
    if (this.spec.kind !== 'pty') {
      throw new CorralError('NOT_SUPPORTED_FOR_KIND', `Session ${this.id} is a ${this.spec.kind} session: it has no terminal to resize.`);
    }
    const proc = this.requireRunning();
    this.cols = cols;
    this.rows = rows;
    proc.resize(cols, rows);
    this.screen?.resize(cols, rows);
    this.infoEmitter.fire();
  }

  /** Sends a signal to the session's process group (the program and its children in that group). */
  signal(name: NodeJS.Signals): void {
    this.requireRunning();
    const root = this.rootIdentity;
    if (root === null) return;
    signalGroup(root.pid, name, [root]);
  }

  /** The profile's interrupt keys for a terminal (the line discipline signals the foreground job); SIGINT for a pipe. */
  interrupt(): void {
    this.requireRunning();
    if (this.spec.kind === 'pty') this.sendInput(undefined, this.spec.profile.input.interrupt);
    else this.signal('SIGINT');
  }

  pause(): void {
    this.proc?.pause();
  }

  resume(): void {
    this.proc?.resume();
  }

  // ---- state -----------------------------------------------------------------------------------------------

  /** Applies a transition through the checked table. Returns false (and logs) when refused. */
  setState(to: SessionState, reason: string, source: StateSource): boolean {
    if (this.replaying) return false;
    const result = this.machine.transition(to, reason, source, nowIso());
    if (!result.ok) {
      if (result.reason === 'illegal') {
        this.deps.log('error', 'illegal state transition refused', { session: this.id, from: result.from, to, reason, source });
      }
      return false;
    }
    this.stateEmitter.fire(result.event);
    return true;
  }

  get stateReason(): string {
    return this.machine.reason;
  }

  // ---- waits -----------------------------------------------------------------------------------------------

  /**
   * Resolves when the condition holds, the timeout passes, or the signal aborts (rejects with the abort reason).
   * A pattern is tested on all kept output from `since`, however much (see PatternScan); an ended session
   * answers `exit` only once that output has been scanned without a match.
   */
  waitFor(condition: WaitCondition, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    const immediate = this.checkImmediate(condition);
    if (immediate !== null) return Promise.resolve(immediate);
    return new Promise<WaitOutcome>((resolve, reject) => {
      const store = new DisposableStore();
      const done = (outcome: WaitOutcome): void => {
        if (store.isDisposed) return;
        store.dispose();
        resolve(outcome);
      };
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      store.add(toDisposable(() => clearTimeout(timer)));
      if (signal !== undefined) {
        const onAbort = (): void => {
          store.dispose();
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        store.add(toDisposable(() => signal.removeEventListener('abort', onAbort)));
      }
      let scan: PatternScan | null = null;
      // Output already there counts even when the session has ended: finish scanning it before answering exit.
      const ended = (): void => {
        if (scan === null) done('exit');
        else void scan.caughtUp().then(() => done('exit'));
      };
      store.add(
        this.onStateChange((event) => {
          if (condition.states?.includes(event.to)) done('state');
          else if (event.to === 'terminated') ended();
        }),
      );
      if (condition.pattern !== undefined) {
        const pattern = condition.pattern;
        if (condition.screen === true && this.screen !== null) {
          const screen = this.screen;
          store.add(screen.onChanged(() => testPattern(pattern, screen.text()) && done('pattern')));
        }
        scan = store.add(
          new PatternScan(this.output, pattern, condition.since ?? this.output.endOffset, {
            onMatch: () => done('pattern'),
            onError: (error) => {
              store.dispose();
              reject(error);
            },
          }),
        );
      }
      if (this.machine.state === 'terminated') ended();
    });
  }

  /** What can be answered without waiting or scanning output. */
  private checkImmediate(condition: WaitCondition): WaitOutcome | null {
    if (condition.states?.includes(this.machine.state)) return 'state';
    if (condition.pattern !== undefined && condition.screen === true && this.screen !== null) {
      if (testPattern(condition.pattern, this.screen.text())) return 'pattern';
    }
    if (this.machine.state === 'terminated' && (condition.pattern === undefined || condition.since === undefined)) return 'exit';
    return null;
  }

  // ---- limits and ending -------------------------------------------------------------------------------------

  private armLimits(): void {
    const { maxLifetimeMs, idleTimeoutMs } = this.spec.limits;
    if (maxLifetimeMs !== null) {
      // From the program's start, also for a reattached session (its start was under an earlier daemon).
      const started = this.startedAt === null ? NaN : Date.parse(this.startedAt);
      const lived = Number.isFinite(started) ? Math.max(0, Date.now() - started) : 0;
      const timer = setTimeout(() => void this.terminate('timeout', 'timer'), Math.max(0, maxLifetimeMs - lived));
      this.disposables.add(toDisposable(() => clearTimeout(timer)));
    }
    if (idleTimeoutMs !== null) {
      let timer: NodeJS.Timeout;
      const check = (): void => {
        const idleFor = performance.now() - this.lastActivityMono;
        if (idleFor >= idleTimeoutMs) {
          void this.terminate('idle_timeout', 'timer');
          return;
        }
        timer = setTimeout(check, idleTimeoutMs - idleFor);
      };
      // From the last activity (a reattached session's may be long before this daemon started).
      timer = setTimeout(check, Math.max(0, idleTimeoutMs - (performance.now() - this.lastActivityMono)));
      this.disposables.add(toDisposable(() => clearTimeout(timer)));
    }
  }

  private handleProcessExit(status: ProcessStatus): void {
    this.programExited = true;
    if (this.proc !== null && !this.hosted) this.deps.onDirectChild(this.proc.pid, false);
    if (this.ending.terminating) return; // terminate() is already ending the tree
    // The program ended on its own. Whatever it left behind dies with the session (a closed terminal's
    // SIGHUP, then the escalation); that also makes the output stream reach EOF.
    const root = this.rootIdentity;
    if (root === null) return;
    if (status.treeGone === true) {
      // Nothing left to sweep (the holder had no child left); the stream still gets its deadline to close.
      this.closeAfterTreeDead();
      return;
    }
    const sweep = sweepOrphans({
      root,
      pgid: root.pid,
      marker: { key: SESSION_MARKER_ENV, value: this.id },
      notOurs: this.deps.liveRootPids(),
      ...this.cgroupTarget(),
      // The holder died: what it held re-parented away from it (to us, or to PID 1 after a restart): look everywhere.
      ...(status.lost === true ? { scope: 'system' as const } : this.treeScope()),
      hangupGraceMs: ORPHAN_HANGUP_GRACE_MS,
      termGraceMs: this.deps.graces.termMs,
    }).then(() => {
      this.finalSweep();
      this.closeAfterTreeDead();
    });
    this.ending.track(sweep);
  }

  /**
   * A holder's escapees are re-parented to the holder (a subreaper), not to us, and after a restart nothing of the
   * session is our descendant: the walk starts from the holder's children (the holder itself is never signalled).
   */
  private treeScope(): { host?: ProcessIdentity } {
    const host = this.proc?.host?.record.holder;
    return host === undefined ? {} : { host };
  }

  private cgroupTarget(): { cgroup?: SessionCgroup } {
    return this.cgroup === null ? {} : { cgroup: this.cgroup };
  }

  /** Once the tree is gone, its cgroup goes too (a session's cgroup never outlives it). */
  private async removeCgroup(): Promise<void> {
    const cgroup = this.cgroup;
    if (cgroup === null) return;
    let removed: boolean;
    try {
      removed = await cgroup.remove();
    } catch (error) {
      this.deps.log('warn', 'could not remove the session cgroup', { error: (error as Error).message });
      return;
    }
    if (!removed) this.deps.log('warn', 'the session cgroup still has a process (stuck in the kernel?); left in place', { pids: cgroup.pids() });
  }

  /** Usage of the whole tree from its cgroup (reaped children's CPU included), or null without one. */
  cgroupUsage(): CgroupUsage | null {
    return this.cgroup?.usage() ?? null;
  }

  /** Under a holder, whatever descends from it dies too (an escapee that dropped the marker from its env). */
  private finalSweep(): void {
    this.proc?.host?.signalTree('SIGKILL');
  }

  private closeAfterTreeDead(): void {
    const timer = setTimeout(() => {
      if (this.ending.exit !== null || this.proc === null) return;
      this.deps.log('warn', 'output stream did not close after the process tree ended; closing it', { session: this.id });
      this.proc.forceClose();
    }, CLOSE_AFTER_TREE_DEAD_MS);
    this.disposables.add(toDisposable(() => clearTimeout(timer)));
  }

  /**
   * Ends the session: the profile's polite exit, then SIGINT → SIGTERM → SIGKILL on the process group, then a
   * sweep of every remaining descendant. Resolves with the exit information once `terminated`.
   */
  terminate(reason: ExitReason, source: StateSource, options: { force?: boolean } = {}): Promise<ExitInfo> {
    // force: also hurries a termination already under way.
    if (options.force === true) this.ending.force();
    return this.ending.terminate(reason, () => {
      this.setState('terminating', reason, source);
      return this.runTermination();
    });
  }

  private async runTermination(): Promise<ExitInfo> {
    const root = this.rootIdentity;
    if (root !== null && this.proc !== null) {
      const exitInput = this.spec.kind === 'pty' ? this.spec.profile.input.exit : undefined;
      const killing = terminateProcessTree({
        root,
        pgid: root.pid,
        marker: { key: SESSION_MARKER_ENV, value: this.id },
        notOurs: this.deps.liveRootPids(),
        ...this.cgroupTarget(),
        politeExit:
          exitInput === undefined
            ? undefined
            : () => {
                const keys = exitInput.keys.map((key) => keyToBytes(key) ?? '').join('');
                this.proc?.write((exitInput.text ?? '') + keys);
              },
        politeGraceMs: exitInput === undefined ? 0 : this.deps.graces.politeMs,
        interruptGraceMs: this.deps.graces.interruptMs,
        termGraceMs: this.deps.graces.termMs,
        ...this.treeScope(),
        signal: this.ending.forceSignal,
      }).then((result) => {
        this.finalSweep();
        this.ending.markForced(result.forced);
      });
      this.ending.track(killing);
      await killing;
      this.closeAfterTreeDead();
    } else {
      this.ending.streamClosed({ code: null, signal: null });
    }
    await this.ending.whenStreamClosed();
    return this.ending.whenEnded();
  }

  /** Every byte is in the stream (the backend closed): persist it, then report terminated. */
  private async finish(bwrapStatus: ProcessStatus): Promise<void> {
    if (this.ending.exit !== null) return;
    const status = this.spec.sandbox.info.mode === 'bwrap' ? await sandboxedExitStatus(bwrapStatus, this.deps.sandboxExitFile) : bwrapStatus;
    if (this.ending.exit !== null) return;
    await this.ending.treeWorkDone();
    await this.removeCgroup();
    await Promise.all([this.output.flush(), this.stdout?.flush(), this.stderr?.flush()]);
    let finalScreen: ScreenSnapshot | null = null;
    if (this.screen !== null) {
      await this.screen.settled({ outputEnded: true });
      finalScreen = this.screen.snapshot();
    }
    this.ending.conclude(status, finalScreen, (exit) => {
      const { reason } = exit;
      const detail =
        exit.signal !== null ? `${reason} (${exit.signal})` : exit.code !== null ? `${reason} (code ${exit.code})` : reason;
      this.setState('terminated', detail, reason === 'exited' || reason === 'spawn_failed' || reason === 'lost' ? 'process' : 'api');
      this.exitEmitter.fire(exit);
    });
    this.screen?.dispose();
    this.screen = null;
    // Kept in memory for a while after its end: as a small record (the final screen), its output read from the journal.
    for (const stream of [this.output, this.stdout, this.stderr]) stream?.releaseMemory();
  }

  /** Resolves when the session is terminated (for any reason). */
  whenTerminated(): Promise<ExitInfo> {
    return this.ending.whenEnded();
  }

  // ---- info ------------------------------------------------------------------------------------------------

  setUsage(usage: ResourceUsage): void {
    this.usage = usage;
  }

  toInfo(): SessionInfo {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.spec.explicitEnv)) {
      env[name] = this.spec.secretEnvNames.includes(name) ? REDACTED : value;
    }
    return {
      id: this.id,
      name: this.spec.name,
      taskId: this.spec.taskId,
      profile: this.spec.profile.name,
      kind: this.spec.kind,
      command: this.spec.command,
      cwd: this.spec.cwd,
      env,
      cols: this.cols,
      rows: this.rows,
      state: this.machine.state,
      stateReason: this.machine.reason,
      stateSource: this.machine.source,
      pid: this.proc?.pid ?? null,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      endedAt: this.ending.endedAt,
      lastActivityAt: new Date(performance.timeOrigin + this.lastActivityMono).toISOString(),
      exit: this.ending.exit,
      output: {
        totalBytes: this.output.endOffset,
        stdoutBytes: this.stdoutBytes,
        stderrBytes: this.stderrBytes,
        firstAvailableOffset: this.output.firstAvailableOffset,
      },
      usage: this.usage,
      labels: this.spec.labels,
      limits: this.spec.limits,
      containment: this.cgroup?.mode ?? 'sweep',
      storage: { ...this.deps.storage(), journalGaps: this.journalGaps() },
      sandbox: this.spec.sandbox.info,
      scopedToken: this.spec.scopedTokenHash !== undefined,
      ...(this.driver.kind === 'agent' ? { agent: this.driver.detector.info() } : {}),
    };
  }

  private journalGaps(): JournalGap[] {
    const streams = [['combined', this.output], ['stdout', this.stdout], ['stderr', this.stderr]] as const;
    return streams.flatMap(([name, stream]) => (stream?.journalGaps ?? []).map((gap) => ({ stream: name, ...gap })));
  }

  /** Releases memory-only resources of an ended session (the store keeps its record and output). */
  async dispose(): Promise<void> {
    this.disposables.dispose();
    await Promise.all([this.output.close(), this.stdout?.close(), this.stderr?.close()]);
  }
}

/** Text the program would not receive as sent: a lone surrogate would reach it as U+FFFD. */
function requireUtf8Form(text: string): void {
  const index = loneSurrogateIndex(text);
  if (index === -1) return;
  const unit = text.charCodeAt(index).toString(16).toUpperCase();
  throw new CorralError(
    'INVALID_UTF8',
    `Input has a lone surrogate (U+${unit}) at index ${index}: it has no UTF-8 form, so nothing was written. ` +
      'Send whole characters (a surrogate pair), or raw bytes in a binary WebSocket frame.',
    { details: { index } },
  );
}
