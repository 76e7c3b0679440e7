// Samples the resource usage of every live session's whole process tree (CPU time, memory, process count) on a
// guarded periodic task, for session info and metrics. It only reads /proc and the sessions' cgroups; it never signals a process, and a
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
      // The cgroup counts the whole tree, escapees and reaped children's CPU included; /proc fills what it lacks.
      // Under a holder nothing of the session is our descendant: the /proc walk starts from the holder's children.
      const cgroup = session.cgroupUsage();
      const host = session.hostRecord?.holder;
      const fromProc =
        cgroup?.cpuMs != null && cgroup.memoryBytes != null ? null : treeUsage(findSessionProcesses(host === undefined ? { root } : { root, host }));
      if (cgroup === null) {
        session.setUsage({ cpuMs: fromProc?.cpuMs ?? 0, rssBytes: fromProc?.rssBytes ?? 0, processCount: fromProc?.processCount ?? 0, sampledAt, source: 'proc' });
      } else {
        session.setUsage({
          cpuMs: cgroup.cpuMs ?? fromProc?.cpuMs ?? 0,
          rssBytes: cgroup.memoryBytes ?? fromProc?.rssBytes ?? 0,
          processCount: cgroup.processCount,
          sampledAt,
          source: 'cgroup',
        });
      }
      this.onSampled(session);
    }
  }

  dispose(): void {
    this.task.dispose();
  }
}
