// Samples the resource usage of every live session's whole process tree (CPU time, memory, process count) on a
// timer, for session info and metrics. It only reads /proc; it never signals a process.

import type { Disposable } from '../common/lifecycle.js';
import { findSessionProcesses, treeUsage } from './process/processTree.js';
import type { Session } from './Session.js';

export class UsageSampler implements Disposable {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly liveSessions: () => Iterable<Session>,
    /** A session's usage changed (its info needs saving). */
    private readonly onSampled: (session: Session) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const sampledAt = new Date().toISOString();
    for (const session of this.liveSessions()) {
      const root = session.identity;
      if (root === null) continue;
      const usage = treeUsage(findSessionProcesses({ root }));
      session.setUsage({ ...usage, sampledAt });
      this.onSampled(session);
    }
  }

  dispose(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
