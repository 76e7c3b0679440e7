// What the engine needs of one session's cgroup, whichever cgroup version holds it: where the program joins it, who
// is in it, the kill that nothing in it escapes, its usage figures, and its removal.

/** Which kernel mechanism holds a session's tree (the session info shows it; 'sweep' means no cgroup). */
export type CgroupMode = 'cgroup-v2' | 'cgroup-v1';

/** The per-tree limits a cgroup can enforce, from the session's `limits`. */
export interface CgroupLimits {
  /** pids.max: tasks (processes and threads) of the whole tree. */
  processes?: number | null;
  /** memory.max (v2) / memory.limit_in_bytes (v1): the whole tree's memory. */
  memoryBytes?: number | null;
  /** cpu.weight (v2, 1..10000, default 100) / cpu.shares (v1, weight × 1024 / 100). */
  cpuWeight?: number | null;
}

export interface CgroupUsage {
  /** Memory charged to the tree (memory.current / memory.usage_in_bytes); null without the memory controller. */
  memoryBytes: number | null;
  /** CPU time of the tree, reaped children included (cpu.stat usage_usec / cpuacct.usage); null without it. */
  cpuMs: number | null;
  /** Processes in the cgroup now. */
  processCount: number;
}

export interface CgroupKillResult {
  /** Processes that were in the cgroup when the kill started. */
  killed: number;
  /** Processes still in it when the kill gave up waiting (0 unless one is stuck in uninterruptible sleep). */
  remaining: number;
}

export interface SessionCgroup {
  readonly mode: CgroupMode;
  /** The session it holds (its directory's name in every hierarchy). */
  readonly sessionId: string;
  /** The cgroup.procs file of every hierarchy the program must join before it execs. */
  readonly procsFiles: readonly string[];
  /** The limits actually enforced by the kernel (a hierarchy without the controller cannot). */
  readonly enforced: Readonly<CgroupLimits>;
  /** Pids of the processes in it now. */
  pids(): number[];
  /** Kills every process in it at once (no fork can outrun it) and waits, bounded, until it is empty. */
  kill(): Promise<CgroupKillResult>;
  usage(): CgroupUsage;
  /** Removes the cgroup once it is empty (waits, bounded, for exiting tasks to leave); true when it is gone. */
  remove(): Promise<boolean>;
}
