// Agent sessions' engine side: prepares a launch (hooks settings file, per-session hook secret, isolated HOME,
// auth token as a secret env var, git worktree), delivers hook reports, runs prompt and answer, cleans up at exit
// and keeps the agent stats. The session manager owns it; it knows no transport and never sees the API token.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorralError } from '../../protocol/errors.js';
import type { AgentOptions, AgentSessionRequest, AnswerRequest, CreateSessionRequest, PromptRequest } from '../../protocol/api.js';
import type { SessionInfo, SessionState } from '../../protocol/sessionTypes.js';
import type { ConversationReply, DialogReply, PromptReply } from '../../protocol/apiReplies.js';
import { DisposableStore, toDisposable } from '../../common/lifecycle.js';
import type { Profile } from '../profiles/profileSchema.js';
import type { Session } from '../Session.js';
import type { AgentDetector } from './AgentDetector.js';
import { findInPath, hookCommand, HOOK_ENV } from './hookCommand.js';
import { installHooks, writeHomeFiles } from './agentHome.js';
import { readAgentVersion } from './agentVersion.js';
import type { CommandHistory } from '../history/CommandHistory.js';
import { HookServer, newHookSecret } from './HookServer.js';
import { conversationFromTranscript, lastReplyFromTranscript, newestTranscript, readTranscriptTail, replyFromScreen } from './transcript.js';
import { describeDialog } from './pendingDialog.js';
import type { TurnEnd } from './turnLedger.js';
import { addWorktree, removeWorktree, type WorktreeSpec } from './worktree.js';

/** A prompt waits this long for its turn to end by default: agent turns with tools can run for minutes. */
const DEFAULT_PROMPT_TIMEOUT_MS = 10 * 60 * 1000;
/** The pasted text must show on screen before its submit key, up to this long (a stalled CLI reads it late). */
const ECHO_WAIT_MS = 2000;
/** The start of the prompt looked for on screen: short enough to fit an input line that wraps or scrolls. */
const ECHO_PROBE_CHARS = 16;
/** After the echo, the submit key waits this long so the CLI reads it in a later tick than the paste. */
const ECHO_SETTLE_MS = 60;
/** How many times a prompt that started no turn gets its submit key (or is typed) again, resubmitAfterMs apart. */
const MAX_RESUBMITS = 3;
/** A submitted prompt that shows no sign of a turn within this long is reported as not started. */
const TURN_START_TIMEOUT_MS = 15_000;
/** How often an answer checks whether its dialog went away (the detector updates on every screen change). */
const ANSWER_POLL_MS = 25;
/** An answer to a session waiting for input waits this long for the dialog to be drawn. */
const DIALOG_APPEAR_MS = 5000;
/** Default wait for a dialog to go away after an answer. */
const DEFAULT_ANSWER_TIMEOUT_MS = 10_000;
/** Turn durations kept for the stats percentiles: recent enough to matter, bounded in memory. */
const MAX_TURN_SAMPLES = 1000;
/** How long a turn the screen ended waits for its Stop/StopFailure hook (StopFailure seen 25–100 ms after the screen). */
const STOP_FAILURE_WAIT_MS = 500;

/**
 * Whether the CLI shows the prompt (in its input box or the conversation). Keys that reach a terminal still in
 * cooked mode (a CLI between its restart and reading its terminal) are echoed by the tty with the paste marks in
 * caret notation (`^[[200~text^[[201~`, measured with Gemini CLI after its trust dialog): the CLI never gets them.
 */
function shownByCli(lines: readonly string[], probe: string): boolean {
  return lines.some((line) => line.includes(probe) && !line.includes('^[[20'));
}

function echoedByTty(lines: readonly string[], probe: string): boolean {
  return lines.some((line) => line.includes(probe) && line.includes('^[[20'));
}

/** The start of a prompt's first line, as looked for on screen. */
function promptProbe(text: string): string {
  return (text.split('\n')[0] ?? '').trim().slice(0, ECHO_PROBE_CHARS);
}

export interface AgentLaunch {
  args: string[];
  env: Record<string, string>;
  secretEnv: string[];
  internalEnv: Record<string, string>;
  autoAnswer: string[];
  /** Set when the hook server must deliver to this session. */
  hooks: boolean;
}

/** An agent turn's result is a wire type (protocol/apiReplies.ts PromptReply), named here for the engine's callers. */
export type PromptResult = PromptReply;

export interface AgentServiceDeps {
  dataDir: string;
  history: CommandHistory;
  sessionDir(id: string): string;
  resolveCwd(path: string | undefined): string;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  /** The CLI's version of an agent session was read (for the `agent.version` event). */
  versionRead(session: Session, version: string): void;
}

export class AgentService {
  readonly hooks: HookServer;
  private readonly curl = findInPath('curl', process.env.PATH ?? '');
  private readonly cleanups = new Map<string, Promise<void>>();
  private readonly worktrees = new Map<string, { repo: string; path: string; keep: boolean }>();
  private readonly unregister = new Map<string, () => void>();
  private readonly turnMs: number[] = [];
  private readonly counts = { prompts: 0, promptErrors: 0, promptTimeouts: 0, answers: 0 };

  constructor(private readonly deps: AgentServiceDeps) {
    this.hooks = new HookServer(deps.dataDir);
  }

  async start(): Promise<void> {
    await this.hooks.start();
  }

  // ---- launch ------------------------------------------------------------------------------------------------

  /** What an agent session adds to its spawn. Runs while the spec is built (sync; the session id is known). */
  prepareLaunch(id: string, profile: Profile, request: CreateSessionRequest, cwd: string): AgentLaunch {
    const options: AgentOptions = request.agent ?? {};
    const agent = profile.agent;
    const launch: AgentLaunch = { args: [], env: {}, secretEnv: [], internalEnv: {}, autoAnswer: options.autoAnswer ?? [], hooks: false };
    if (agent === undefined) {
      if (request.agent !== undefined) {
        throw new CorralError('VALIDATION_FAILED', `Profile ${profile.name} is not an agent profile: "agent" options do not apply.`);
      }
      return launch;
    }
    const privateDir = join(this.deps.sessionDir(id), 'agent');
    mkdirSync(privateDir, { recursive: true, mode: 0o700 });
    if (options.authToken !== undefined) {
      if (agent.authTokenEnv === undefined) {
        throw new CorralError('VALIDATION_FAILED', `Profile ${profile.name} names no variable for an auth token.`);
      }
      launch.env[agent.authTokenEnv] = options.authToken;
      launch.secretEnv.push(agent.authTokenEnv);
    }
    let home: string | null = null;
    if (options.isolatedHome === true) {
      home = join(privateDir, 'home');
      const authToken = options.authToken ?? (agent.authTokenEnv === undefined ? undefined : request.env?.[agent.authTokenEnv]);
      writeHomeFiles(home, agent, { cwd, preAnswer: options.preAnswer === true, authToken });
      launch.env.HOME = home;
    } else if (options.preAnswer === true) {
      throw new CorralError('VALIDATION_FAILED', 'preAnswer needs an isolated home: Corral never edits the daemon user\'s own HOME.');
    }
    if (agent.hooks !== undefined && options.hooks !== false) {
      const command = hookCommand({ curl: this.curl, node: process.execPath, scriptDir: privateDir });
      const installed = installHooks(agent.hooks, command, { privateDir, home });
      if (installed !== null) {
        launch.args.push(...installed.args);
        launch.internalEnv[HOOK_ENV.socket] = this.hooks.socketPath;
        launch.internalEnv[HOOK_ENV.session] = id;
        // The secret goes to this session's hook command only; reports with it reach this session only.
        launch.internalEnv[HOOK_ENV.secret] = newHookSecret();
        launch.hooks = true;
      }
    }
    return launch;
  }

  /** After the session object exists (before it starts): where its hook reports go, and its cleanup at exit. */
  attach(session: Session): void {
    const secret = session.spec.childEnv[HOOK_ENV.secret];
    if (secret !== undefined) {
      this.unregister.set(session.id, this.hooks.register(session.id, secret, (event) => session.deliverHook(event)));
    }
    session.onExit(() => {
      this.cleanups.set(session.id, this.cleanup(session.id));
    });
    const driver = session.driver;
    if (driver.kind === 'agent' && this.sendsTurnStarts(session)) driver.detector.turns.expectStarts();
    if (driver.kind === 'agent') {
      // In the background: the session starts at once, its info says the version a moment later.
      void readAgentVersion(session.spec.profile, session.spec.command, session.spec.childEnv, session.spec.cwd).then((version) => {
        driver.detector.setVersion(version);
        if (version !== null && session.isLive) this.deps.versionRead(session, version);
      });
    }
  }


  /** Whether the hooks installed for this session include the profile's turn-start event. */
  private sendsTurnStarts(session: Session): boolean {
    const hooks = session.spec.profile.agent?.hooks;
    if (hooks === undefined || session.spec.childEnv[HOOK_ENV.secret] === undefined) return false;
    const installed = new Set(hooks.events);
    // Flag hooks go in only with the session's own isolated HOME, where their trust is written (agentHome.ts).
    if (hooks.flagHooks !== undefined && session.spec.childEnv.HOME === join(this.deps.sessionDir(session.id), 'agent', 'home')) {
      for (const event of hooks.flagHooks.events) installed.add(event);
    }
    return hooks.rules.some((rule) => rule.action === 'turn_start' && installed.has(rule.event));
  }

  private async cleanup(id: string): Promise<void> {
    this.unregister.get(id)?.();
    this.unregister.delete(id);
    const worktree = this.worktrees.get(id);
    this.worktrees.delete(id);
    if (worktree !== undefined && !worktree.keep) {
      try {
        await removeWorktree(worktree.repo, worktree.path);
      } catch (error) {
        // A worktree git cannot remove (locked, repo gone) is logged and left for the operator, never fatal.
        this.deps.log('warn', 'could not remove the task worktree', { session: id, path: worktree.path, error: (error as Error).message });
      }
    }
  }

  /** Resolves once the session's cleanup (worktree removal) is done. */
  async cleanedUp(id: string): Promise<void> {
    await this.cleanups.get(id);
  }

  /** A worktree for a task, before its session exists. */
  async createWorktree(spec: WorktreeSpec): Promise<string> {
    const repo = this.deps.resolveCwd(spec.repo);
    const path = join(this.deps.dataDir, 'worktrees', `${spec.branch.replace(/[^A-Za-z0-9._-]/g, '-')}-${Date.now().toString(36)}`);
    await addWorktree({ ...spec, repo }, path);
    return path;
  }

  adoptWorktree(sessionId: string, worktree: { repo: string; path: string; keep: boolean }): void {
    this.worktrees.set(sessionId, { ...worktree, repo: this.deps.resolveCwd(worktree.repo) });
  }

  async discardWorktree(repo: string, path: string): Promise<void> {
    await removeWorktree(this.deps.resolveCwd(repo), path);
  }

  /** `POST /sessions/agent` (and `/sessions/claude`) fields as a generic create request for the named agent profile. */
  static agentRequest(body: AgentSessionRequest, cwd: string | undefined): CreateSessionRequest {
    const size = body.terminalSize;
    const [cols, rows] = size === undefined ? [undefined, undefined] : Array.isArray(size) ? size : [size.cols, size.rows];
    return {
      profile: body.agent,
      // Without executable or args the profile's own command runs (its program in PATH).
      ...(body.executable !== undefined || body.args !== undefined ? { command: [body.executable ?? body.agent, ...(body.args ?? [])] } : {}),
      cwd,
      env: body.environment,
      cols,
      rows,
      taskId: body.taskId,
      forceNew: body.forceNew,
      name: body.name,
      labels: body.labels,
      limits: body.limits,
      agent: {
        authToken: body.authToken,
        isolatedHome: body.home === 'isolated',
        preAnswer: body.preAnswer,
        autoAnswer: body.autoAnswer,
      },
    };
  }

  // ---- prompt and answer -----------------------------------------------------------------------------------

  private detectorOf(session: Session): AgentDetector {
    const driver = session.driver;
    if (driver.kind !== 'agent') {
      throw new CorralError('NOT_SUPPORTED_FOR_KIND', `Session ${session.id} (profile ${session.spec.profile.name}) is not an agent session.`);
    }
    return driver.detector;
  }

  /** Bracketed paste, submit, then wait for the turn to end or for a question; the reply of that turn. */
  async prompt(session: Session, request: PromptRequest, signal?: AbortSignal): Promise<PromptResult> {
    const detector = this.detectorOf(session);
    const before = session.state;
    if (before === 'busy' || before === 'initializing' || before === 'terminating' || before === 'terminated') {
      throw new CorralError('SESSION_BUSY', `Session ${session.id} is ${before}; prompt it when it is ready or idle.`, { details: { state: before } });
    }
    if (before === 'waiting_input' || before === 'authenticating') {
      throw new CorralError('INVALID_STATE', `Session ${session.id} is ${before} (${session.stateReason}); answer the dialog first (POST …/answer).`, {
        details: { state: before, reason: session.stateReason },
      });
    }
    const startedMs = performance.now();
    const startedAt = new Date().toISOString();
    const outputStart = session.output.endOffset;
    const seq = this.deps.history.begin({
      sessionId: session.id, kind: 'prompt', text: request.text, startedAt, cwd: session.spec.cwd, outputStart, timedOut: false,
    });
    this.counts.prompts++;
    // This prompt's turn: only hooks tied to it (or to a later turn) end it, not a late end of the turn before.
    const turn = detector.turns.submit(request.text);
    const ended = (): boolean => detector.turns.since(turn).end !== null;
    // Busy on screen can still be the previous turn's tail; where the CLI reports turn starts by hook, the turn has
    // started when its own start hook came.
    const turnStarted = (): boolean => detector.turns.since(turn).started || (sawBusy && !detector.turns.reportsStarts);
    const store = new DisposableStore();
    let sawBusy = false;
    let finish: (timedOut: boolean) => void = () => undefined;
    let settled = new Promise<boolean>((resolve) => {
      finish = resolve;
    });
    store.add(
      session.onStateChange((event) => {
        if (event.to === 'busy') sawBusy = true;
        else if (event.to === 'waiting_input' || event.to === 'authenticating' || event.to === 'terminated') finish(false);
        else if ((event.to === 'idle' || event.to === 'error') && (turnStarted() || ended())) finish(false);
      }),
    );
    const timeoutMs = request.timeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS;
    const timer = setTimeout(() => finish(true), timeoutMs);
    const startTimer = setTimeout(() => {
      if (!sawBusy && !turnStarted() && !ended()) finish(true);
    }, Math.min(TURN_START_TIMEOUT_MS, timeoutMs));
    // A turn-end hook for this turn that changes no state (the screen already said idle, e.g. after its start hook
    // was lost) still ends the prompt.
    const endPoll = setInterval(() => {
      if (ended() && (session.state === 'idle' || session.state === 'error')) finish(false);
    }, ANSWER_POLL_MS * 4);
    store.add(toDisposable(() => clearTimeout(timer)));
    store.add(toDisposable(() => clearTimeout(startTimer)));
    store.add(toDisposable(() => clearInterval(endPoll)));
    const onAbort = (): void => finish(true);
    signal?.addEventListener('abort', onAbort, { once: true });
    store.add(toDisposable(() => signal?.removeEventListener('abort', onAbort)));
    let timedOut = false;
    try {
      const typing = { lostToTty: await this.typeAndSubmit(session, request.text) };
      const resubmitMs = session.spec.profile.input.resubmitAfterMs;
      if (resubmitMs > 0) {
        // Where the CLI reports turn starts by hook, busy on screen proves nothing (the previous turn's tail, a
        // spinner while it loads): only the start hook does. An extra submit key on an empty input line is a no-op.
        // (turnStarted() already counts a busy screen for the others.)
        const notStarted = (): boolean =>
          !turnStarted() &&
          !ended() &&
          (session.state === 'ready' || session.state === 'idle' || (detector.turns.reportsStarts && session.state === 'busy'));
        // Checked a few times: a CLI that restarted itself can take a while to read its terminal under load.
        let attempts = 0;
        let resubmitting = false;
        const resubmit = setInterval(() => {
          if (++attempts > MAX_RESUBMITS || !notStarted()) clearInterval(resubmit);
          else if (!resubmitting) {
            resubmitting = true;
            void this.resubmit(session, request.text, notStarted, typing).finally(() => {
              resubmitting = false;
            });
          }
        }, resubmitMs);
        store.add(toDisposable(() => clearInterval(resubmit)));
      }
      for (;;) {
        timedOut = await settled;
        if ((session.state === 'error' || session.state === 'idle') && !timedOut && session.spec.childEnv[HOOK_ENV.secret] !== undefined) {
          // The screen can end a turn before its hook lands: StopFailure comes 25–100 ms after the error is drawn
          // (measured), and a slow hook command on a loaded machine can lose Stop's lead. Its payload is the reply.
          // An interrupt has no hook and pays this wait once.
          const until = performance.now() + STOP_FAILURE_WAIT_MS;
          while (!ended() && performance.now() < until) await sleep(20);
        }
        // A turn the screen showed idle for a moment and then busy again (a stalled CLI between its steps) is
        // still running: keep waiting, unless its end was reported by a hook.
        // Idle or error before this turn's start was reported is the previous turn's end (a queued prompt).
        const now = session.state;
        const over = now === 'idle' || now === 'error' ? turnStarted() : now !== 'busy';
        if (timedOut || ended() || over) break;
        settled = new Promise<boolean>((resolve) => {
          finish = resolve;
        });
      }
    } finally {
      store.dispose();
    }
    const state = session.state;
    const durationMs = Math.round(performance.now() - startedMs);
    const { reply, source } = await this.replyOf(session, request.text, detector.turns.since(turn).end);
    const error = state === 'error' ? detector.insight.lastError : null;
    if (timedOut) this.counts.promptTimeouts++;
    else if (state === 'error') this.counts.promptErrors++;
    else {
      this.turnMs.push(durationMs);
      if (this.turnMs.length > MAX_TURN_SAMPLES) this.turnMs.shift();
    }
    this.deps.history.finish(session.id, seq, {
      endedAt: new Date().toISOString(),
      exitCode: state === 'error' ? 1 : timedOut ? null : 0,
      outputEnd: session.output.endOffset,
      timedOut,
      durationMs,
    });
    return { state, reply, replySource: source, error, timedOut, durationMs, session: session.toInfo() };
  }

  /** Bracketed paste, then the submit key once the CLI has read it. True when the tty echoed it instead (lost). */
  private async typeAndSubmit(session: Session, text: string): Promise<boolean> {
    session.write(session.spec.profile.input.bracketedPaste ? `\x1b[200~${text}\x1b[201~` : text);
    await sleep(session.spec.profile.input.submitDelayMs);
    const echo = await this.untilEchoed(session, text);
    session.sendInput(undefined, session.spec.profile.input.submit);
    return echo === 'tty';
  }

  /**
   * No turn started after the submit key. A CLI whose event loop stalls (a loaded machine) can read the paste and its
   * Enter as one chunk and take the Enter as part of the paste: the text sits in the input box, and one more submit
   * key sends it. Keys that reach a terminal still in cooked mode are lost altogether (Gemini CLI just after it
   * restarted itself for the trust dialog, measured: the tty echoed the paste, the CLI never read it): then the
   * prompt is typed again, only on that evidence (a CLI that is merely slow to draw the paste must not get it twice).
   */
  private async resubmit(session: Session, text: string, notStarted: () => boolean, typing: { lostToTty: boolean }): Promise<void> {
    const probe = promptProbe(text);
    const lines = probe === '' || session.screenTracker === null ? null : (await session.screenSnapshot()).lines;
    if (!notStarted()) return;
    const lost = lines !== null && !shownByCli(lines, probe) && (typing.lostToTty || echoedByTty(lines, probe));
    if (!lost) {
      session.sendInput(undefined, session.spec.profile.input.submit);
      return;
    }
    this.deps.log('info', 'a prompt the terminal echoed before the CLI read it is typed again', { session: session.id, profile: session.spec.profile.name });
    typing.lostToTty = await this.typeAndSubmit(session, text);
  }

  /**
   * Waits (bounded) until the pasted text shows on the screen: a CLI whose event loop stalled has not read it yet,
   * and an Enter read in the same tick as the paste is taken as a newline (Gemini CLI turns an Enter within 30 ms
   * of the last typed key into one). Long pastes that the CLI shows as a placeholder just wait out the bound.
   */
  private async untilEchoed(session: Session, text: string): Promise<'cli' | 'tty' | 'none'> {
    const probe = promptProbe(text);
    if (probe === '' || session.screenTracker === null) return 'none';
    const until = performance.now() + ECHO_WAIT_MS;
    let tty = false;
    while (performance.now() < until) {
      const screen = await session.screenSnapshot();
      if (shownByCli(screen.lines, probe)) {
        await sleep(ECHO_SETTLE_MS);
        return 'cli';
      }
      tty ||= echoedByTty(screen.lines, probe);
      await sleep(ANSWER_POLL_MS);
    }
    return tty ? 'tty' : 'none';
  }

  private async replyOf(
    session: Session,
    text: string,
    end: TurnEnd | null,
  ): Promise<{ reply: string | null; source: PromptResult['replySource'] }> {
    if (end?.reply != null) return { reply: end.reply, source: 'hook' };
    const detector = this.detectorOf(session);
    const agent = session.spec.profile.agent;
    const transcript = agent?.transcript;
    if (transcript !== undefined && session.state === 'idle') {
      const home = session.spec.childEnv.HOME;
      const path = detector.insight.transcriptPath ?? (home === undefined || transcript.dir === undefined ? null : newestTranscript(home, transcript.dir, session.spec.cwd));
      const jsonl = path === null ? null : readTranscriptTail(path);
      const reply = jsonl === null ? null : lastReplyFromTranscript(jsonl, transcript);
      if (reply !== null) return { reply, source: 'transcript' };
    }
    if (session.screenTracker !== null && agent?.promptMark !== undefined && agent.replyMark !== undefined) {
      const screen = await session.screenSnapshot();
      const reply = replyFromScreen(screen.lines, text, { promptMark: agent.promptMark, replyMark: agent.replyMark });
      if (reply !== null) return { reply, source: 'screen' };
    }
    return { reply: null, source: null };
  }

  /** Answers the dialog on screen by option number or text; waits until it is gone (or the timeout). */
  async answer(session: Session, request: AnswerRequest, signal?: AbortSignal): Promise<{ dialog: string; choice: string; state: SessionState; session: SessionInfo }> {
    const detector = this.detectorOf(session);
    if (detector.insight.dialog === null && (session.state === 'waiting_input' || session.state === 'authenticating')) {
      // A PermissionRequest hook can precede the dialog's drawing by ~330 ms (measured): give the screen time.
      const until = performance.now() + DIALOG_APPEAR_MS;
      while (detector.insight.dialog === null && performance.now() < until && session.isLive) await sleep(ANSWER_POLL_MS, undefined, { signal });
    }
    if (detector.insight.dialog === null) {
      throw new CorralError('INVALID_STATE', `Session ${session.id} shows no dialog (state ${session.state}).`, { details: { state: session.state } });
    }
    const result = await detector.choose(String(request.choice), signal);
    if ('error' in result) {
      // No such option is the caller's mistake; a CLI that did not take the keys (nothing confirmed) is worth a retry.
      throw new CorralError(result.unconfirmed === true ? 'INVALID_STATE' : 'VALIDATION_FAILED', `Cannot answer: ${result.error}. Options: ${result.options.join(' | ') || 'none'}.`, {
        details: { options: result.options },
      });
    }
    this.counts.answers++;
    const dialogId = result.dialog.id;
    const deadline = performance.now() + (request.timeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
    // Gone means: another dialog, or no dialog, on screen (the detector tracks it on every screen change).
    while (detector.insight.dialog?.id === dialogId && performance.now() < deadline && session.isLive) {
      await sleep(ANSWER_POLL_MS, undefined, { signal });
    }
    return { dialog: dialogId, choice: result.option.label, state: session.state, session: session.toInfo() };
  }

  // ---- what a session asks, what was said ---------------------------------------------------------------------

  /** The dialog on the session's screen now (question, context, options) and the agent's last reply. */
  async pendingDialog(session: Session): Promise<DialogReply> {
    const driver = session.driver;
    if (driver.kind !== 'agent') return { state: session.state, dialog: null, lastReply: null };
    const insight = driver.detector.insight;
    const dialog = insight.dialog;
    const lines = dialog === null || session.screenTracker === null ? null : (await session.screenSnapshot()).lines;
    return {
      state: session.state,
      dialog: dialog === null || lines === null ? null : describeDialog(dialog, lines, performance.now() - insight.dialogSince),
      lastReply: insight.lastAssistantMessage,
    };
  }

  /** Prompts and replies: from the CLI's transcript when the profile has one and it was found, else the prompts Corral sent. */
  conversation(session: Session): ConversationReply | null {
    const driver = session.driver;
    const transcript = session.spec.profile.agent?.transcript;
    if (driver.kind !== 'agent' || transcript === undefined) return null;
    const home = session.spec.childEnv.HOME;
    const path =
      driver.detector.insight.transcriptPath ?? (home === undefined || transcript.dir === undefined ? null : newestTranscript(home, transcript.dir, session.spec.cwd));
    const jsonl = path === null ? null : readTranscriptTail(path);
    return jsonl === null ? null : { turns: conversationFromTranscript(jsonl, transcript), source: 'transcript' };
  }

  // ---- stats -------------------------------------------------------------------------------------------------

  stats(sessions: readonly Session[], profile: string): Record<string, unknown> {
    const byState: Record<string, number> = {};
    let errors = 0;
    let hooks = 0;
    for (const session of sessions) {
      if (session.spec.profile.name !== profile) continue;
      byState[session.state] = (byState[session.state] ?? 0) + 1;
      const driver = session.driver;
      if (driver.kind === 'agent') {
        errors += driver.detector.insight.errors;
        hooks += driver.detector.insight.hooksReceived;
      }
    }
    const sorted = [...this.turnMs].sort((a, b) => a - b);
    const pct = (p: number): number | null => (sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null));
    return {
      profile,
      live: Object.values(byState).reduce((a, b) => a + b, 0),
      byState,
      prompts: { ...this.counts },
      turnDurationMs: { count: sorted.length, p50: pct(50), p95: pct(95), max: sorted.at(-1) ?? null },
      errors,
      hooks: { received: hooks, refused: this.hooks.refused, transport: this.curl === null ? 'node' : 'curl' },
    };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.cleanups.values());
    await this.hooks.dispose();
  }
}
