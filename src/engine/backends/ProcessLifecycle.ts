// What every backend process shares: its three events, and the rule that `closed` fires exactly once, after both
// the root process's exit status and the end of its output are known, in whichever order they come. A backend only
// reports those two facts; this class decides when the process is over and releases the listeners.

import { Emitter } from '../../common/lifecycle.js';
import type { OutputChunk, ProcessStatus } from './ProcessBackend.js';

export abstract class ProcessLifecycle {
  protected readonly dataEmitter = new Emitter<OutputChunk>();
  private readonly exitEmitter = new Emitter<ProcessStatus>();
  private readonly closedEmitter = new Emitter<ProcessStatus>();
  readonly onData = this.dataEmitter.event;
  readonly onProcessExit = this.exitEmitter.event;
  readonly onClosed = this.closedEmitter.event;
  /** The root process's exit status, once it exited. */
  protected status: ProcessStatus | null = null;
  /** The last byte of output was delivered (or output was given up on): nothing more will come. */
  protected outputEnded = false;
  private closedFired = false;

  /** Resumes reading output that pause() stopped; a no-op when not paused. */
  abstract resume(): void;

  /** The root process exited. Output is resumed first: a paused stream must still drain its tail. */
  protected reportExit(status: ProcessStatus): void {
    this.status = status;
    this.resume();
    this.exitEmitter.fire(status);
    this.maybeClosed();
  }

  /** Output has ended. Idempotent. */
  protected reportOutputEnded(): void {
    if (this.outputEnded) return;
    this.outputEnded = true;
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (this.closedFired || this.status === null || !this.outputEnded) return;
    this.closedFired = true;
    this.closedEmitter.fire(this.status);
    this.dataEmitter.dispose();
    this.exitEmitter.dispose();
    this.closedEmitter.dispose();
  }
}
