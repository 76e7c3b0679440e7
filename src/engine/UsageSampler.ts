// Samples the resource usage of every live session's whole process tree (CPU time, memory, process count) on a
// timer, for session info and metrics. It only reads /proc; it never signals a process. A failing scan (EMFILE while
// descriptors run out) is retried with backoff by its PeriodicTask and never throws out of the timer.

import type { Disposable } from '../common/lifecycle.js';
import { PeriodicTask, type TaskHealth, type TaskLogger } from '../common/PeriodicTask.js';
import { findSessionProcesses, treeUsage } from './process/processTree.js';
import type { Session } from './Session.js';

export class UsageSampler implements Disposable {
  private readonly task: PeriodicTask;

  constructor(
    intervalMs: number,
    private readonly liveSessions: () => Iterable<Session>,
    /** A session's usage changed (its info needs saving). */
    private readonly onSampled: (session: Session) => void,
    log: TaskLogger,
  ) {
    this.task = new PeriodicTask({ name: 'usage sampling', intervalMs, log }, () => this.sample());
  }

  start(): void {
    this.task.start();
  }

  health(): TaskHealth {
    return this.task.health();
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
    this.task.dispose();
  }
}
