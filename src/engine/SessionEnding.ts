// How one session ends, in one place: why (the reason asked for, or the program's own exit), the termination under
// way, the tree work it waits for, whether anything had to be killed, the output stream's close, and the final
// moment (exit info, end time, last screen). It decides nothing about processes; the session drives it.

import type { ExitInfo, ExitReason, ScreenSnapshot } from '../protocol/sessionTypes.js';
import type { ProcessStatus } from './backends/ProcessBackend.js';

export class SessionEnding {
  /** Set by terminate() or a failed spawn; a session that ends without either ended on its own (`exited`). */
  private reason: ExitReason | null = null;
  private termination: Promise<ExitInfo> | null = null;
  private forced = false;
  private exitInfo: ExitInfo | null = null;
  private lastScreen: ScreenSnapshot | null = null;
  /**
   * Tree work in flight (the termination escalation, or the sweep of what a program left behind when it exited on
   * its own). The stream can close before it ends (the main process died, its grandchildren did not yet), so the
   * end waits for it: only then is every process gone and `forced` known.
   */
  private readonly treeWork: Promise<unknown>[] = [];
  /** Aborted by a forced termination: the escalation skips its polite steps and graces and goes to SIGKILL. */
  private readonly forceAbort = new AbortController();
  private resolveClosed: (status: ProcessStatus) => void = () => undefined;
  private readonly closed = new Promise<ProcessStatus>((resolve) => {
    this.resolveClosed = resolve;
  });
  private resolveEnded: (exit: ExitInfo) => void = () => undefined;
  private readonly ended = new Promise<ExitInfo>((resolve) => {
    this.resolveEnded = resolve;
  });

  /** The exit information, once the session is terminated. */
  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  get endedAt(): string | null {
    return this.exitInfo?.at ?? null;
  }

  /** The screen as the program left it (terminal sessions), kept after the live screen is released. */
  get finalScreen(): ScreenSnapshot | null {
    return this.lastScreen;
  }

  /** True once terminate() has started ending the tree (the program did not end on its own). */
  get terminating(): boolean {
    return this.termination !== null;
  }

  get forceSignal(): AbortSignal {
    return this.forceAbort.signal;
  }

  /** Hurries the termination (under way or still to come) straight to SIGKILL. */
  force(): void {
    this.forceAbort.abort();
  }

  /**
   * Starts a termination once: `run` is called for the first request only, later ones get its promise, and an
   * ended session answers its exit at once.
   */
  terminate(reason: ExitReason, run: () => Promise<ExitInfo>): Promise<ExitInfo> {
    if (this.exitInfo !== null) return Promise.resolve(this.exitInfo);
    if (this.termination === null) {
      this.reason = reason;
      this.termination = run();
    }
    return this.termination;
  }

  spawnFailed(): void {
    this.reason = 'spawn_failed';
  }

  /** Tree work the end must wait for; `forced` comes from the escalation's result. */
  track(work: Promise<unknown>): void {
    this.treeWork.push(work);
  }

  markForced(forced: boolean): void {
    this.forced = forced;
  }

  async treeWorkDone(): Promise<void> {
    await Promise.all(this.treeWork);
  }

  /** The backend closed the output (every byte is in), or there was never a process to close it. */
  streamClosed(status: ProcessStatus): void {
    this.resolveClosed(status);
  }

  whenStreamClosed(): Promise<ProcessStatus> {
    return this.closed;
  }

  /** Resolves with the exit information once the session is terminated (for any reason). */
  whenEnded(): Promise<ExitInfo> {
    return this.exitInfo !== null ? Promise.resolve(this.exitInfo) : this.ended;
  }

  /**
   * The final moment: records the exit, lets the session announce it (state, events), then wakes whoever waits
   * for the end. Once only: a session that has ended stays as it ended.
   */
  conclude(status: ProcessStatus, finalScreen: ScreenSnapshot | null, announce: (exit: ExitInfo) => void): void {
    if (this.exitInfo !== null) return;
    this.lastScreen = finalScreen;
    this.exitInfo = {
      code: status.code,
      signal: status.signal,
      // A backend that lost the process (its holder died) cannot say how it ended.
      reason: this.reason ?? (status.lost === true ? 'lost' : 'exited'),
      forced: this.forced,
      at: new Date().toISOString(),
    };
    announce(this.exitInfo);
    this.resolveEnded(this.exitInfo);
  }
}
