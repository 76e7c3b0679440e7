// A session's cgroup on the unified hierarchy (cgroup v2): one directory; the program joins it through cgroup.procs,
// cgroup.kill ends everything in it at once (kernel 5.14+), and the controllers the parent delegates enforce
// pids.max, memory.max and cpu.weight. Must never touch a cgroup that is not the session's own directory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { killFrozenMembers } from './killMembers.js';
import { processCgroups, readCgroupFile, readCgroupNumber, readProcs, removeCgroupDir, writeCgroupFile } from './cgroupFs.js';
import { KILL_SETTLE_MS, pollUntil, REMOVE_SETTLE_MS } from './cgroupWait.js';
import type { CgroupKillResult, CgroupLimits, CgroupUsage, SessionCgroup } from './SessionCgroup.js';

/** cgroup v2's default cpu.weight: what a session without a cpuWeight limit gets, like every other cgroup. */
export const DEFAULT_CPU_WEIGHT = 100;

export class CgroupV2 implements SessionCgroup {
  readonly mode = 'cgroup-v2' as const;
  readonly procsFiles: readonly string[];
  enforced: CgroupLimits = {};

  /** The session's directory, e.g. /sys/fs/cgroup/<daemon's cgroup>/corral/<sessionId>. */
  readonly dir: string;

  constructor(
    readonly sessionId: string,
    mountPoint: string,
    /** The cgroup's path as /proc/<pid>/cgroup shows it ("0::<path>"). */
    private readonly path: string,
  ) {
    this.dir = join(mountPoint, path);
    this.procsFiles = [join(this.dir, 'cgroup.procs')];
  }

  /** Its one directory, for creating it. */
  get directories(): string[] {
    return [this.dir];
  }

  /** Sets the limits the delegated controllers allow; the others stay with the rlimits alone. */
  applyLimits(limits: CgroupLimits): void {
    const set = (file: string, value: string): boolean => {
      if (!existsSync(join(this.dir, file))) return false;
      writeCgroupFile(join(this.dir, file), value);
      return true;
    };
    const enforced: CgroupLimits = {};
    if (limits.processes != null && set('pids.max', String(limits.processes))) enforced.processes = limits.processes;
    if (limits.memoryBytes != null && set('memory.max', String(limits.memoryBytes))) {
      enforced.memoryBytes = limits.memoryBytes;
      // No swap to spill into: the tree's memory is what the limit says.
      set('memory.swap.max', '0');
    }
    if (limits.cpuWeight != null && set('cpu.weight', String(limits.cpuWeight))) enforced.cpuWeight = limits.cpuWeight;
    this.enforced = enforced;
  }

  pids(): number[] {
    return readProcs(this.procsFiles[0] ?? '');
  }

  async kill(): Promise<CgroupKillResult> {
    const killed = this.pids().length;
    if (killed === 0) return { killed, remaining: 0 };
    if (existsSync(join(this.dir, 'cgroup.kill'))) {
      writeCgroupFile(join(this.dir, 'cgroup.kill'), '1');
    } else {
      // Before 5.14: freeze (no fork completes), SIGKILL each member, thaw so they can die.
      await killFrozenMembers({
        freeze: () => writeCgroupFile(join(this.dir, 'cgroup.freeze'), '1'),
        frozen: () => /^frozen 1$/m.test(readCgroupFile(join(this.dir, 'cgroup.events')) ?? ''),
        thaw: () => writeCgroupFile(join(this.dir, 'cgroup.freeze'), '0'),
        pids: () => this.pids(),
        isMember: (pid) => processCgroups(pid).get('') === this.path,
      });
    }
    await pollUntil(KILL_SETTLE_MS, () => this.pids().length === 0);
    return { killed, remaining: this.pids().length };
  }

  usage(): CgroupUsage {
    const cpuStat = readCgroupFile(join(this.dir, 'cpu.stat'));
    const usec = cpuStat === undefined ? undefined : /^usage_usec (\d+)$/m.exec(cpuStat)?.[1];
    return {
      memoryBytes: readCgroupNumber(join(this.dir, 'memory.current')) ?? null,
      cpuMs: usec === undefined ? null : Math.round(Number(usec) / 1000),
      processCount: this.pids().length,
    };
  }

  async remove(): Promise<boolean> {
    return pollUntil(REMOVE_SETTLE_MS, () => removeCgroupDir(this.dir));
  }
}
