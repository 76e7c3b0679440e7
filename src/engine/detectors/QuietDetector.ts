// The `quiet` rule, for programs that tell us nothing: output means busy; a quiet period afterwards means ready
// (the first time) or idle. Every transition says it came from a timer, so nobody mistakes it for certainty.

import { performance } from 'node:perf_hooks';
import type { DetectorHost, StateDetector } from './StateDetector.js';

export class QuietDetector implements StateDetector {
  private timer: NodeJS.Timeout | null = null;
  private lastOutput = performance.now();
  private disposed = false;

  constructor(
    private readonly host: DetectorHost,
    private readonly quietMs = host.profile.quietMs,
  ) {}

  onStart(): void {
    this.arm();
  }

  onOutput(): void {
    this.lastOutput = performance.now();
    const state = this.host.state;
    if (state === 'idle' || state === 'ready') this.host.setState('busy', 'output', 'timer');
    this.arm();
  }

  onInput(): void {}

  /** One timer at a time; it re-checks the clock when it fires instead of being re-armed per chunk. */
  private arm(): void {
    if (this.timer !== null || this.disposed) return;
    this.timer = setTimeout(() => this.check(), this.quietMs);
  }

  private check(): void {
    this.timer = null;
    if (this.disposed) return;
    const elapsed = performance.now() - this.lastOutput;
    if (elapsed < this.quietMs) {
      this.timer = setTimeout(() => this.check(), this.quietMs - elapsed);
      return;
    }
    const state = this.host.state;
    if (state === 'initializing') this.host.setState('ready', `no output for ${this.quietMs} ms`, 'timer');
    else if (state === 'busy') this.host.setState('idle', `no output for ${this.quietMs} ms`, 'timer');
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
