// The `shell-integration` rule: states come from the marks the shell itself prints (prompt → ready/idle,
// command start → busy), with source `shell-integration`. Without marks (an unknown shell, ssh, a broken rc) it
// says so and falls back to the quiet-period rule; it never guesses silently. It only reads output and input.

import { Emitter, type Event } from '../../common/lifecycle.js';
import type { SessionState, StateSource } from '../../protocol/sessionTypes.js';
import { QuietDetector } from '../detectors/QuietDetector.js';
import type { DetectorHost, StateDetector } from '../detectors/StateDetector.js';
import { ShellMarkParser, type ShellMark } from './shellMarks.js';
import type { ShellIntegration } from './shellIntegration.js';

/** A shell that has not printed a mark this long after start has no working integration (a heavy rc takes ~1 s). */
const FIRST_MARK_TIMEOUT_MS = 5000;

const SOURCE: StateSource = 'shell-integration';

export class ShellIntegrationDetector implements StateDetector {
  private readonly parser: ShellMarkParser | null;
  private readonly markEmitter = new Emitter<ShellMark>();
  /** Every mark of this session's nonce, in output order, after the session's state has not yet been updated. */
  readonly onMark: Event<ShellMark> = this.markEmitter.event;
  private readonly inputEmitter = new Emitter<void>();
  /** Input reached the shell (typed in attach or the dashboard, sent through `input`, or written by exec). */
  readonly onInputWritten: Event<void> = this.inputEmitter.event;
  private fallback: QuietDetector | null = null;
  private fallbackReason: string | null = null;
  private firstMarkTimer: NodeJS.Timeout | null = null;
  private sawMark = false;
  private lastCwd: string | null = null;
  private lastExit: number | null = null;
  private disposed = false;
  /** Held by the one exec that may run at a time (see ShellExec). */
  execClaimed = false;

  constructor(
    private readonly host: DetectorHost,
    readonly integration: ShellIntegration | null,
  ) {
    this.parser = integration === null ? null : new ShellMarkParser(integration.nonce);
  }

  /** True while marks drive the state (not before the first one, not in fallback). */
  get active(): boolean {
    return this.sawMark && this.fallback === null;
  }

  /** Why marks do not drive the state, or null when they do (or may still). */
  get unavailableReason(): string | null {
    return this.fallbackReason;
  }

  get cwd(): string | null {
    return this.lastCwd;
  }

  get lastExitCode(): number | null {
    return this.lastExit;
  }

  onStart(): void {
    if (this.integration === null) {
      this.startFallback(`no shell integration for ${this.host.profile.name === 'shell' ? 'this shell' : 'this program'}`);
      return;
    }
    this.firstMarkTimer = setTimeout(() => {
      this.firstMarkTimer = null;
      if (!this.sawMark) this.startFallback(`no shell-integration mark within ${FIRST_MARK_TIMEOUT_MS} ms of start`);
    }, FIRST_MARK_TIMEOUT_MS);
  }

  onOutput(data: Buffer): void {
    this.fallback?.onOutput();
    if (this.parser === null) return;
    // Session appends to the stream before telling detectors: the chunk ends at the stream's end.
    const marks = this.parser.parse(data, this.host.output.endOffset - data.length);
    for (const mark of marks) this.handle(mark);
  }

  onInput(data: string | Buffer): void {
    this.fallback?.onInput();
    this.inputEmitter.fire();
    // sh/dash print no command-start mark: a submitted line at a prompt is the start of a command.
    if (this.integration?.marksCommandStart === false && this.active && isAtPrompt(this.host.state)) {
      const text = typeof data === 'string' ? data : data.toString('latin1');
      if (text.includes('\n') || text.includes('\r')) this.host.setState('busy', 'command line submitted (sh has no command-start mark)', SOURCE);
    }
  }

  private handle(mark: ShellMark): void {
    if (!this.sawMark) {
      this.sawMark = true;
      if (this.firstMarkTimer !== null) clearTimeout(this.firstMarkTimer);
      this.firstMarkTimer = null;
    }
    if (this.fallback !== null) {
      // Marks arrived after all (a slow rc): they decide again.
      this.host.log('info', 'shell-integration marks arrived; leaving the quiet-period fallback');
      this.fallback.dispose();
      this.fallback = null;
      this.fallbackReason = null;
    }
    if (mark.type === 'P') this.lastCwd = mark.cwd;
    if (mark.type === 'D') this.lastExit = mark.exitCode;
    // Listeners (exec) see the mark before the state changes, so a caller woken by `idle` finds exec finished.
    this.markEmitter.fire(mark);
    const state = this.host.state;
    if (mark.type === 'A') {
      if (state === 'initializing') this.host.setState('ready', 'prompt', SOURCE);
      else if (state === 'busy' || state === 'waiting_input' || state === 'error') {
        this.host.setState('idle', this.lastExit === null ? 'prompt' : `prompt (last exit ${this.lastExit})`, SOURCE);
      }
    } else if (mark.type === 'C' && isAtPrompt(state)) {
      this.host.setState('busy', 'command started', SOURCE);
    }
  }

  private startFallback(reason: string): void {
    if (this.disposed || this.fallback !== null) return;
    this.fallbackReason = reason;
    this.host.log('warn', `${reason}; states fall back to the quiet-period rule`);
    const host = this.host;
    // Everything of the host as it is (getters included, through the prototype), but reasons say why.
    const prefixed = Object.create(host, {
      setState: { value: (to: SessionState, why: string, source: StateSource) => host.setState(to, `${reason}; quiet rule: ${why}`, source) },
    }) as DetectorHost;
    this.fallback = new QuietDetector(prefixed);
    this.fallback.onStart();
  }

  dispose(): void {
    this.disposed = true;
    if (this.firstMarkTimer !== null) clearTimeout(this.firstMarkTimer);
    this.fallback?.dispose();
    this.markEmitter.dispose();
    this.inputEmitter.dispose();
  }
}

function isAtPrompt(state: SessionState): boolean {
  return state === 'ready' || state === 'idle';
}
