// Makes the daemon the child subreaper of its sessions and reaps the orphaned zombies re-parented to it.
// Must never reap a registered direct child (libuv/node-pty wait for those by pid and would lose their exit codes).
import { PeriodicTask, type TaskHealth, type TaskLogger } from '../../common/PeriodicTask.js';
import { identityKey, type ProcessIdentity } from './ProcessIdentity.js';
import { errnoCode, native } from './nativeBinding.js';
import { listPids, readProcStat } from './procfs.js';

/** Default scan period: a zombie only holds a pid slot, so a second of delay costs nothing and keeps scans rare. */
const DEFAULT_INTERVAL_MS = 1000;

export interface OrphanReaperOptions {
  intervalMs?: number;
  /** Where a failing scan is reported (once per kind; EMFILE while descriptors run out). Default: a process warning. */
  log?: TaskLogger;
}

const warnOnce: TaskLogger = (_level, message, fields) => process.emitWarning(`${message}: ${String(fields.error)}`);

export class OrphanReaper {
  private readonly directChildren = new Set<number>();
  /** Unregistered zombie children seen on the previous scan; only these may be reaped on the next one. */
  private candidates = new Set<string>();
  /** The periodic scan; a failing one (EMFILE scanning /proc) is retried with backoff and never throws. */
  private readonly task: PeriodicTask;
  private started = false;

  constructor(opts: OrphanReaperOptions = {}) {
    const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.task = new PeriodicTask({ name: 'orphan reaping', intervalMs, log: opts.log ?? warnOnce }, () => {
      this.reapNow();
    });
  }

  /**
   * Becomes child subreaper (orphans of sessions come to us, not to PID 1, which here does not reap promptly)
   * and starts the periodic reaping. `subreaper` is false when the kernel refused; reaping still runs.
   */
  start(): { subreaper: boolean } {
    let subreaper = true;
    try {
      native.setChildSubreaper();
    } catch (error) {
      // EINVAL (kernel without PR_SET_CHILD_SUBREAPER) or EPERM (sandbox): orphans then go to init instead.
      const code = errnoCode(error);
      if (code !== 'EINVAL' && code !== 'EPERM') throw error;
      subreaper = false;
    }
    if (!this.started) {
      this.started = true;
      this.task.start();
    }
    return { subreaper };
  }

  /** A child whose owner (child_process, node-pty) waits for it by pid: never ours to reap. */
  registerDirectChild(pid: number): void {
    this.directChildren.add(pid);
  }

  /** The registered children: sessions' main processes (and pipe children) not yet reaped by their owners. */
  get registeredChildren(): ReadonlySet<number> {
    return this.directChildren;
  }

  /** Call once the owner has reaped it (its exit event fired). */
  forgetDirectChild(pid: number): void {
    this.directChildren.delete(pid);
  }

  /**
   * Reaps zombie children of ours that are not registered and were already zombies on the previous scan (the grace
   * scan lets libuv reap a child it spawned but nobody registered). Returns how many were reaped.
   */
  reapNow(): number {
    const seen = new Set<string>();
    let reaped = 0;
    for (const pid of listPids()) {
      if (this.directChildren.has(pid)) continue;
      const stat = readProcStat(pid);
      if (stat === undefined || stat.ppid !== process.pid || stat.state !== 'Z') continue;
      const id: ProcessIdentity = { pid, startTime: stat.startTime };
      const key = identityKey(id);
      if (!this.candidates.has(key)) {
        seen.add(key);
        continue;
      }
      try {
        if (native.waitpidNoHang(pid) !== null) reaped += 1;
        else seen.add(key);
      } catch (error) {
        // ECHILD: its owner reaped it between our scan and the wait; nothing left to do.
        if (errnoCode(error) !== 'ECHILD') throw error;
      }
    }
    this.candidates = seen;
    return reaped;
  }

  /** Whether the periodic scan is succeeding (for `/healthz` and metrics). */
  health(): TaskHealth {
    return this.task.health();
  }

  dispose(): void {
    this.task.dispose();
    this.candidates.clear();
  }
}
