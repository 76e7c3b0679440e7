// Samples the resource usage of every live session's whole process tree (CPU time, memory, process count) on a
// guarded periodic task, for session info and metrics. It only reads /proc; it never signals a process, and a
// failing read of /proc (EMFILE on a bad day) backs off instead of taking the daemon down.

import { PeriodicTask, type TaskHealth } from '../common/PeriodicTask.js';
import type { Disposable } from '../common/lifecycle.js';
import type { EngineLogger } from './engineLogger.js';
import { findSessionProcesses, treeUsage } from './process/processTree.js';
import type { Session } from './Session.js';

export class UsageSampler implements Disposable {
  private readonly task: PeriodicTask;

  constructor(
    intervalMs: number,
    private readonly liveSessions: () => Iterable<Session>,
    /** A session's usage changed (its info needs saving). */
    private readonly onSampled: (session: Session) => void,
    log: EngineLogger,
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
      // Under a holder nothing of the session is our descendant: the walk starts from the holder's children.
      const host = session.hostRecord?.holder;
      const usage = treeUsage(findSessionProcesses(host === undefined ? { root } : { root, host }));
      session.setUsage({ ...usage, sampledAt });
      this.onSampled(session);
    }
  }

  dispose(): void {
    this.task.dispose();
  }
}
