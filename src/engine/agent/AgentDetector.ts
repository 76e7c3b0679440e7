// The `agent` state rule: an agent CLI's state from its hooks (primary, where the profile has them), its rendered
// screen and window title (dialogs, interrupts, login, API errors: what hooks do not report), and a self-check
// timer that reports `profile_mismatch` instead of sitting in `busy` forever. Every transition names its source.
// It never writes to the program except an auto-answer the session opted in to.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DisposableStore, toDisposable } from '../../common/lifecycle.js';
import type { AgentSessionInfo, SessionState } from '../../protocol/sessionTypes.js';
import { keyToBytes } from '../../protocol/keys.js';
import type { DetectorHost, StateDetector } from '../detectors/StateDetector.js';
import type { HookRule, ProfileDialog } from '../profiles/profileSchema.js';
import type { HookEvent } from './HookServer.js';
import { classifyScreen, dialogOptions, dialogQuestion, dialogTool, findOption, type DialogOption, type ScreenVerdict } from './screenRules.js';
import { TurnLedger } from './turnLedger.js';

/**
 * After a hook decides a state, the screen may lag it (UserPromptSubmit up to ~200 ms before the spinner, Stop
 * 40–100 ms before the turn-end line; measured). For this long a screen that contradicts the hook is taken for a
 * stale frame; dialogs and errors still win at once. Generous for a loaded 2-core machine.
 */
const HOOK_HOLD_MS = 1500;
/**
 * Keys sent to a dialog in its first moments are lost (the CLI ignores input for ~150 ms after it renders; the
 * recorder waits 300 ms). Answers wait until the dialog has been on screen this long.
 */
const DIALOG_KEY_GUARD_MS = 300;
/** A dialog a hook announced but the screen has not shown after this long is reported on the hook's word. */
const HOOK_UNCONFIRMED_MS = 3000;
/** An auto-answer whose choice could not be read off the dialog is tried this many times, this far apart. */
const AUTO_ANSWER_TRIES = 3;
const AUTO_ANSWER_RETRY_MS = 500;
/** Between the keys of one answer (arrows, then Enter): the TUI handles one key per input chunk reliably. */
const KEY_GAP_MS = 40;
/** An arrow key whose cursor move has not shown within this long is sent again (it was lost in a stalled read). */
const CURSOR_MOVE_MS = 1500;
/** How long `ready` waits for a profile's paste mode (readyAwaitsPasteMode) before reporting without it: a CLI restarting itself on a loaded machine can take tens of seconds to read its terminal again. */
const PASTE_MODE_WAIT_MS = 30_000;
const PASTE_MODE_POLL_MS = 100;

/** What the detector learned beyond the state: read by prompt/answer and stats. */
export interface AgentInsight {
  /** The CLI's own session id and transcript (from any hook payload). */
  agentSessionId: string | null;
  transcriptPath: string | null;
  /** The reply of the latest turn that ended by hook. */
  lastAssistantMessage: string | null;
  lastError: string | null;
  errors: number;
  hooksReceived: number;
  /** Hook reports by event name (which hooks a CLI really sends). */
  hookEvents: Record<string, number>;
  /** The dialog on screen now, and since when (performance.now()). */
  dialog: ProfileDialog | null;
  dialogSince: number;
  /** The tool a permission request is about (hook or screen). */
  pendingTool: string | null;
  /** performance.now() of the last hook or screen change that moved the state (for latency benches). */
  lastDecisionAt: number;
  /** The CLI's version (profile `agent.version`), read once the session starts; null until then or unreadable. */
  version: string | null;
}

export class AgentDetector implements StateDetector {
  private readonly store = new DisposableStore();
  private disposed = false;
  private everWorked = false;
  /** Keys reached the CLI since it was reported ready: before the first turn, only then can a spinner be a turn. */
  private inputSinceReady = false;
  private hold: { state: SessionState; until: number } | null = null;
  private lastKnownAt = performance.now();
  private settleTimer: NodeJS.Timeout | null = null;
  private holdTimer: NodeJS.Timeout | null = null;
  private lastVerdict: ScreenVerdict | null = null;
  private autoAnswering = false;
  /** `dialogSince` of the dialog last auto-answered: each dialog on screen is answered once. */
  private autoAnsweredSince = -1;
  private autoAnswerTries = { since: -1, count: 0 };
  /** A dialog a hook announced, not yet on screen. */
  private announced: { reason: string; at: number } | null = null;
  private announceTimer: NodeJS.Timeout | null = null;
  /** Fires when the dialog on screen has been there long enough to take keys. */
  private dialogTimer: NodeJS.Timeout | null = null;
  readonly insight: AgentInsight = {
    agentSessionId: null,
    transcriptPath: null,
    lastAssistantMessage: null,
    lastError: null,
    errors: 0,
    hooksReceived: 0,
    // No prototype: event names come from the CLI's payload.
    hookEvents: Object.create(null) as Record<string, number>,
    dialog: null,
    dialogSince: 0,
    pendingTool: null,
    lastDecisionAt: 0,
    version: null,
  };

  /** Which turn each turn hook belongs to; prompt() submits its turns here. */
  readonly turns = new TurnLedger();

  constructor(private readonly host: DetectorHost) {}

  get selfCheckMs(): number {
    return this.host.profile.agent?.selfCheckMs ?? 30_000;
  }

  onStart(): void {
    const screen = this.host.screen;
    if (screen !== null) {
      this.store.add(screen.onChanged(() => this.evaluate()));
      this.store.add(screen.onTitle(() => this.evaluate()));
    }
    // The self-check looks a few times per period so a mismatch is reported at most ~20% late.
    const tick = setInterval(() => this.selfCheck(), Math.max(250, Math.floor(this.selfCheckMs / 5)));
    tick.unref();
    this.store.add(toDisposable(() => clearInterval(tick)));
    this.store.add(
      toDisposable(() => {
        if (this.settleTimer !== null) clearTimeout(this.settleTimer);
        if (this.holdTimer !== null) clearTimeout(this.holdTimer);
        if (this.announceTimer !== null) clearTimeout(this.announceTimer);
        if (this.dialogTimer !== null) clearTimeout(this.dialogTimer);
      }),
    );
  }

  onOutput(): void {}

  onInput(): void {
    this.inputSinceReady = true;
  }

  // ---- hooks -------------------------------------------------------------------------------------------------

  onHook(event: HookEvent): void {
    if (this.disposed) return;
    const p = event.payload;
    this.insight.hooksReceived++;
    this.insight.hookEvents[event.name] = (this.insight.hookEvents[event.name] ?? 0) + 1;
    this.lastKnownAt = performance.now();
    if (typeof p.session_id === 'string') this.insight.agentSessionId = p.session_id;
    if (typeof p.transcript_path === 'string') this.insight.transcriptPath = p.transcript_path;
    const rule = matchHookRule(this.host.profile.agent?.hooks?.rules ?? [], event);
    if (rule === undefined) return;
    const state = this.host.state;
    const dialogUp = this.lastVerdict?.kind === 'dialog';
    const field = (name: string | undefined): string | null => {
      const value = name === undefined ? undefined : p[name];
      return typeof value === 'string' ? value : null;
    };
    const tool = field(rule.tool);
    const turnId = field(rule.turnId);
    const prompt = promptField(rule.prompt === undefined ? undefined : p[rule.prompt]);
    switch (rule.action) {
      case 'turn_start':
        this.turns.started(turnId, prompt);
        this.decide('busy', 'prompt submitted', 'hook', event);
        break;
      case 'tool':
        // Arrives before a permission dialog, so it does not mean the tool runs; only a turn that looked over moves.
        if (!dialogUp && (state === 'idle' || state === 'ready' || state === 'error')) this.decide('busy', `tool ${tool ?? '?'}`, 'hook', event);
        break;
      case 'tool_done':
        this.insight.pendingTool = null;
        this.announced = null;
        if (!dialogUp) this.decide('busy', `tool ${tool ?? '?'} ran`, 'hook', event);
        break;
      case 'permission':
        this.insight.pendingTool = tool ?? this.insight.pendingTool;
        this.announce(`permission: ${this.insight.pendingTool ?? 'a tool'}`, event);
        break;
      case 'turn_end': {
        const reply = field(rule.reply);
        if (!this.turns.ended(turnId, prompt, { reply, failed: false }).current) {
          this.lateTurnEnd(event);
          break;
        }
        this.insight.lastAssistantMessage = reply;
        this.announced = null;
        if (!dialogUp) this.decide('idle', 'turn ended', 'hook', event);
        break;
      }
      case 'turn_failed': {
        const text = field(rule.reply);
        const kind = field(rule.error) ?? 'error';
        if (!this.turns.ended(turnId, prompt, { reply: text, failed: true }).current) {
          this.lateTurnEnd(event);
          break;
        }
        this.insight.lastAssistantMessage = text;
        this.announced = null;
        this.recordError(`${kind}: ${text ?? 'the turn failed'}`);
        this.decide('error', `turn failed: ${kind}`, 'hook', event);
        break;
      }
      case 'ignore':
        break;
    }
  }

  /** An earlier turn's end that landed after a later turn began: it is that turn's, not the running one's. */
  private lateTurnEnd(event: HookEvent): void {
    this.host.log('info', 'a turn-end hook for an earlier turn arrived late; the running turn goes on', {
      profile: this.host.profile.name,
      event: event.name,
    });
  }

  /**
   * A hook says a dialog is coming (Claude's PermissionRequest arrives ~250–400 ms before the dialog is drawn, and
   * keys sent before it takes them are lost). The state waits for the screen to show the dialog; only if the screen
   * never does (a profile that no longer matches) the hook's word is taken after HOOK_UNCONFIRMED_MS.
   */
  private announce(reason: string, event: HookEvent): void {
    this.announced = { reason, at: event.receivedAt };
    if (this.announceTimer !== null) clearTimeout(this.announceTimer);
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      const announced = this.announced;
      if (this.disposed || announced === null || this.insight.dialog !== null) return;
      if (this.host.state !== 'busy' && this.host.state !== 'idle' && this.host.state !== 'ready') return;
      this.host.log('warn', 'a hook announced a dialog the screen never showed', { profile: this.host.profile.name, reason: announced.reason });
      this.apply('waiting_input', `${announced.reason} (hook; not seen on screen)`, 'hook', performance.now());
    }, HOOK_UNCONFIRMED_MS);
  }

  private recordError(error: string): void {
    if (this.insight.lastError === error && this.host.state === 'error') return;
    this.insight.lastError = error;
    this.insight.errors++;
  }

  /** A hook's decision, held against stale screen frames for HOOK_HOLD_MS. */
  private decide(to: SessionState, reason: string, source: 'hook', event: HookEvent): void {
    const target = to === 'idle' && !this.everWorked ? 'ready' : to;
    this.hold = { state: target, until: performance.now() + HOOK_HOLD_MS };
    this.apply(target, reason, source, event.receivedAt);
    // When the hold ends, the screen gets its say again (a hook that was wrong must not stick).
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.evaluate();
    }, HOOK_HOLD_MS + 10);
  }

  private apply(to: SessionState, reason: string, source: 'hook' | 'screen' | 'timer', at: number): void {
    // A turn that ended or failed on screen ends what a hook announced for it.
    if (to === 'idle' || to === 'ready' || to === 'error') this.announced = null;
    if (to === 'busy') this.everWorked = true;
    if (this.host.state === to) return;
    if (to === 'ready') this.inputSinceReady = false;
    if (this.host.state === 'terminating' || this.host.state === 'terminated') return;
    // Set before the transition: state listeners (benches) read it when the event fires.
    this.insight.lastDecisionAt = at;
    this.host.setState(to, reason, source);
  }

  // ---- screen ------------------------------------------------------------------------------------------------

  private evaluate(): void {
    const screen = this.host.screen;
    if (this.disposed || screen === null) return;
    const at = performance.now();
    const view = screen.snapshot();
    const verdict = classifyScreen(this.host.profile, view);
    this.lastVerdict = verdict;
    if (verdict === null) return;
    this.lastKnownAt = at;
    if (verdict.kind !== 'dialog') {
      this.insight.dialog = null;
    } else if (this.insight.dialog?.id !== verdict.dialog.id) {
      this.insight.dialog = verdict.dialog;
      this.insight.dialogSince = at;
      if (verdict.dialog.toolPattern !== undefined) this.insight.pendingTool = dialogTool(verdict.dialog, view.lines) ?? this.insight.pendingTool;
    }
    const held = this.hold !== null && at < this.hold.until ? this.hold.state : null;
    switch (verdict.kind) {
      case 'dialog': {
        // Reported only once the dialog takes keys (the CLI drops keys in its first ~150 ms), so a client that
        // answers with a raw key the moment it sees waiting_input is not lost. A hook that announced it names it.
        const readyIn = this.insight.dialogSince + (verdict.dialog.keyGuardMs ?? DIALOG_KEY_GUARD_MS) - at;
        if (readyIn > 0) {
          if (this.dialogTimer === null) {
            this.dialogTimer = setTimeout(() => {
              this.dialogTimer = null;
              this.evaluate();
            }, readyIn + 5);
          }
          return;
        }
        const announced = this.announced;
        this.announced = null;
        if (this.announceTimer !== null) clearTimeout(this.announceTimer);
        this.announceTimer = null;
        const source = announced !== null ? 'hook' : 'screen';
        this.apply(verdict.state, announced !== null ? `${verdict.reason} (${announced.reason})` : verdict.reason, source, announced?.at ?? at);
        // An opted-in auto-answer types only now: the dialog is in the state history first, and it takes keys.
        this.maybeAutoAnswer(verdict.dialog);
        return;
      }
      case 'authenticating':
      case 'waiting_input':
        this.apply(verdict.kind, verdict.reason, 'screen', at);
        return;
      case 'error':
        if (verdict.error !== null) this.recordError(verdict.error);
        if (held === 'busy' || held === null || held === 'error') this.apply('error', verdict.reason, 'screen', at);
        return;
      case 'busy':
        // Before the first turn, busy only comes from `ready` after keys were sent: a spinner while the CLI loads,
        // at startup or after a startup dialog (Codex's title spins then, even after its input line is up), is not a
        // turn. (A turn's start by hook needs no keys.)
        if (!this.everWorked && (this.host.state !== 'ready' || !this.inputSinceReady)) return;
        if (held !== null && held !== 'busy') return;
        this.cancelSettle();
        this.apply('busy', verdict.reason, 'screen', at);
        return;
      case 'input_ready': {
        if (held === 'busy' || held === 'error') return;
        const target: SessionState = this.everWorked ? 'idle' : 'ready';
        if (this.host.state === 'error') return; // an error stays until the next turn starts
        // Leaving `busy` on the screen's word alone waits for the frame to hold (no hook reports interrupts).
        if (this.host.state === 'busy') this.settleThenApply(target, at, this.host.profile.agent?.idleSettleMs ?? 120);
        // Before the first turn (startup, or after a startup dialog that restarts the CLI) the input line can be drawn
        // before the CLI takes keys: `ready` waits for it to hold.
        else if (target === 'ready' && this.host.profile.input.readySettleMs > 0) this.settleThenApply(target, at, this.host.profile.input.readySettleMs);
        else this.apply(target, verdict.reason, 'screen', at);
        return;
      }
    }
  }

  private cancelSettle(): void {
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }

  /** busy → idle (or startup → ready) on the screen's word: only when the frame still says so a moment later. */
  private settleThenApply(target: SessionState, firstSeenAt: number, settleMs: number): void {
    if (this.settleTimer !== null) return;
    const scheduledIn = this.host.state;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      const screen = this.host.screen;
      if (this.disposed || screen === null) return;
      const verdict = classifyScreen(this.host.profile, screen.snapshot());
      const held = this.hold !== null && performance.now() < this.hold.until ? this.hold.state : null;
      const from = this.host.state;
      if (verdict?.kind === 'input_ready' && held !== 'busy' && from === scheduledIn) {
        // Keys sent before the CLI reads its terminal are echoed by the tty and lost (Gemini CLI after restarting
        // itself draws its input line seconds before): wait for its paste mode, bounded in case it was never seen.
        const awaitsPasteMode = target === 'ready' && this.host.profile.input.readyAwaitsPasteMode && !screen.bracketedPasteMode;
        if (awaitsPasteMode && performance.now() - firstSeenAt < PASTE_MODE_WAIT_MS) {
          this.settleThenApply(target, firstSeenAt, PASTE_MODE_POLL_MS);
          return;
        }
        this.apply(target, from === 'busy' ? 'turn over (screen)' : 'input line on screen', 'screen', firstSeenAt);
      }
    }, settleMs);
  }

  private selfCheck(): void {
    if (this.disposed) return;
    const state = this.host.state;
    if (state === 'error' || state === 'terminating' || state === 'terminated') return;
    if (performance.now() - this.lastKnownAt < this.selfCheckMs) return;
    // A screen that has not changed is judged again: a dialog waiting for a person, or an idle input line, is a
    // screen the profile knows however long it stays (only changes are evaluated as they come).
    const screen = this.host.screen;
    if (screen !== null && classifyScreen(this.host.profile, screen.snapshot()) !== null) {
      this.lastKnownAt = performance.now();
      return;
    }
    const silentFor = performance.now() - this.lastKnownAt;
    const reason = `profile_mismatch: nothing the ${this.host.profile.name} profile knows has shown for ${Math.round(silentFor / 1000)} s`;
    this.host.log('warn', 'agent profile does not match the screen', { profile: this.host.profile.name, silentMs: Math.round(silentFor) });
    this.apply('error', reason, 'timer', performance.now());
  }

  // ---- info --------------------------------------------------------------------------------------------------

  /** The session info's `agent` block: version against the profile's verified ones, the dialog on screen. */
  info(): AgentSessionInfo {
    const verified = this.host.profile.verifiedVersions;
    const version = this.insight.version;
    const current = this.currentOptions();
    const screen = this.host.screen;
    return {
      version,
      versionVerified: version === null ? null : verified.includes(version),
      verifiedVersions: [...verified],
      dialog:
        current === null || screen === null
          ? null
          : {
              id: current.dialog.id,
              state: current.dialog.state,
              question: dialogQuestion(current.dialog, screen.snapshot().lines),
              options: current.options.map((option) => ({ ...option, selected: option.index === current.selected })),
              takesKeys: performance.now() - this.insight.dialogSince >= (current.dialog.keyGuardMs ?? DIALOG_KEY_GUARD_MS),
            },
      pendingTool: this.insight.pendingTool,
      lastError: this.insight.lastError,
    };
  }

  /** The CLI's version, once read: a version the profile was not verified against is logged once. */
  setVersion(version: string | null): void {
    this.insight.version = version;
    if (version !== null && !this.host.profile.verifiedVersions.includes(version)) {
      this.host.log('warn', 'agent CLI version not verified with this profile', {
        profile: this.host.profile.name,
        version,
        verifiedVersions: this.host.profile.verifiedVersions,
      });
    }
  }

  // ---- answers -----------------------------------------------------------------------------------------------

  /** The dialog's options as on screen now. */
  currentOptions(): { dialog: ProfileDialog; options: DialogOption[]; selected: number } | null {
    const screen = this.host.screen;
    const dialog = this.insight.dialog;
    if (screen === null || dialog === null) return null;
    return { dialog, ...dialogOptions(dialog, screen.snapshot().lines) };
  }

  /** Picks `choice` in the dialog on screen (after the early-key guard). Returns the option chosen. */
  async choose(
    choice: string,
    signal?: AbortSignal,
  ): Promise<{ dialog: ProfileDialog; option: DialogOption } | { error: string; options: string[]; unconfirmed?: true }> {
    const wait = this.insight.dialogSince + (this.insight.dialog?.keyGuardMs ?? DIALOG_KEY_GUARD_MS) - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal });
    const current = this.currentOptions();
    if (current === null) return { error: 'no dialog is on the screen', options: [] };
    const option = findOption(current.options, choice);
    const labels = current.options.map((o) => (o.number === null ? o.label : `${o.number}. ${o.label}`));
    if (option === undefined) return { error: `no option matches "${choice}"`, options: labels };
    const spec = current.dialog.options;
    if (spec?.select === 'number' && option.number !== null) {
      this.host.write(String(option.number));
    } else {
      if (option.index !== Math.max(0, current.selected)) {
        await this.moveCursorTo(current.dialog, option.index, current.selected, signal);
        // An Enter close behind other keys is taken as part of a paste by some CLIs (Codex's paste-burst
        // detection): it waits as long as a prompt's submit key does.
        await sleep(Math.max(KEY_GAP_MS, this.host.profile.input.submitDelayMs), undefined, { signal });
        // Enter goes only where the screen shows the cursor on the option: a CLI that lost or held back an arrow
        // (a loaded machine) would otherwise take the wrong answer — on Claude's trust dialog, "No, exit".
        if (current.selected >= 0) {
          const now = this.currentOptions();
          if (now === null) return { error: 'the dialog left the screen before the answer was confirmed', options: labels, unconfirmed: true };
          if (now.selected !== option.index) {
            const at = now.options.find((o) => o.index === now.selected)?.label ?? 'no option';
            return { error: `the cursor did not reach "${option.label}" (it is on ${JSON.stringify(at)}); nothing was confirmed`, options: labels, unconfirmed: true };
          }
        }
      }
      this.host.write(keyToBytes('Enter') ?? '\r');
    }
    return { dialog: current.dialog, option };
  }

  /**
   * Arrows to the option, one key at a time, each waiting until the screen shows the cursor moved: a stalled CLI
   * reads keys sent close together as one chunk and drops them (Gemini CLI under load), and an Enter on the wrong
   * option answers the wrong thing. A dialog that shows no cursor mark gets the arrows counted blind.
   */
  private async moveCursorTo(dialog: ProfileDialog, target: number, selected: number, signal?: AbortSignal): Promise<void> {
    if (selected < 0) {
      for (let i = 0; i < target; i++) {
        this.host.write(keyToBytes('Down') ?? '');
        await sleep(KEY_GAP_MS, undefined, { signal });
      }
      return;
    }
    let at = selected;
    for (let attempt = 0; at !== target && attempt < 4 * (Math.abs(target - selected) + 1); attempt++) {
      this.host.write(keyToBytes(target > at ? 'Down' : 'Up') ?? '');
      const until = performance.now() + CURSOR_MOVE_MS;
      let now = at;
      while (now === at && performance.now() < until) {
        await sleep(KEY_GAP_MS, undefined, { signal });
        const screen = this.host.screen;
        if (screen === null || this.insight.dialog?.id !== dialog.id) return;
        now = dialogOptions(dialog, screen.snapshot().lines).selected;
      }
      at = now;
    }
  }

  private maybeAutoAnswer(dialog: ProfileDialog): void {
    const choice = dialog.autoChoice;
    if (choice === undefined || this.autoAnswering || this.autoAnsweredSince === this.insight.dialogSince) return;
    const optIns = this.host.autoAnswer;
    const tool = this.insight.pendingTool;
    const optedIn = optIns.includes(dialog.id) || (tool !== null && optIns.includes(`tool:${tool}`));
    if (!optedIn) return;
    this.autoAnswering = true;
    this.autoAnsweredSince = this.insight.dialogSince;
    const since = this.insight.dialogSince;
    this.autoAnswerTries = this.autoAnswerTries.since === since ? { since, count: this.autoAnswerTries.count + 1 } : { since, count: 1 };
    void this.choose(choice)
      .then((result) => {
        if (!('error' in result)) {
          this.host.log('info', 'dialog auto-answered', { dialog: dialog.id, option: result.option.label });
          return;
        }
        this.host.log('warn', 'auto-answer failed', { dialog: dialog.id, error: result.error, try: this.autoAnswerTries.count });
        // Its options read off a frame the CLI was still drawing (a loaded machine): the same dialog is tried again a
        // moment later, a few times. Keys that were sent are never sent again (a second Enter would answer the next dialog).
        if (this.autoAnswerTries.count < AUTO_ANSWER_TRIES && this.insight.dialogSince === since) {
          this.autoAnsweredSince = -1;
          const retry = setTimeout(() => this.evaluate(), AUTO_ANSWER_RETRY_MS);
          this.store.add(toDisposable(() => clearTimeout(retry)));
        }
      })
      .finally(() => {
        this.autoAnswering = false;
      });
  }

  dispose(): void {
    this.disposed = true;
    this.store.dispose();
  }
}

/** A hook's prompt field: a string, or a list of the conversation's prompts whose last is this turn's (Codex notify). */
function promptField(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const last: unknown = value.at(-1);
    return typeof last === 'string' ? last : null;
  }
  return null;
}

/** The first rule for this event whose `when` patterns all match and whose `unless` patterns all miss. */
export function matchHookRule(rules: readonly HookRule[], event: HookEvent): HookRule | undefined {
  const text = (name: string): string => {
    const value = event.payload[name];
    return typeof value === 'string' ? value : JSON.stringify(value ?? null);
  };
  return rules.find(
    (rule) =>
      rule.event === event.name &&
      Object.entries(rule.when ?? {}).every(([name, source]) => new RegExp(source, 'u').test(text(name))) &&
      !Object.entries(rule.unless ?? {}).some(([name, source]) => new RegExp(source, 'u').test(text(name))),
  );
}
