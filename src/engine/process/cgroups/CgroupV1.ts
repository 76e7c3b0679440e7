// A session's cgroup on the cgroup v1 hierarchies: the same directory name in each (pids and freezer always; memory,
// cpu and cpuacct where mounted); the program joins all of them through their cgroup.procs. v1 has no cgroup.kill:
// the freezer stops every task (so none can fork) while each is SIGKILLed, then thaws them to die.
// Must never touch a cgroup that is not the session's own directory.
import { join } from 'node:path';
import { killFrozenMembers } from './killMembers.js';
import { processCgroups, readCgroupFile, readCgroupNumber, readProcs, removeCgroupDir, writeCgroupFile } from './cgroupFs.js';
import { KILL_SETTLE_MS, pollUntil, REMOVE_SETTLE_MS } from './cgroupWait.js';
import type { CgroupKillResult, CgroupLimits, CgroupUsage, SessionCgroup } from './SessionCgroup.js';

/** The v1 controllers a session uses; pids and freezer are required (they bound and end the tree). */
export type V1Controller = 'pids' | 'freezer' | 'memory' | 'cpu' | 'cpuacct';

/** One v1 hierarchy as the daemon sees it. */
export interface V1Hierarchy {
  mountPoint: string;
  /** The hierarchy's key in /proc/<pid>/cgroup (its controllers, comma-separated, e.g. "cpu,cpuacct"). */
  key: string;
  controllers: string[];
}

/** The session's directory in one hierarchy. */
interface V1Dir {
  hierarchy: V1Hierarchy;
  /** Its path as /proc/<pid>/cgroup shows it. */
  path: string;
  dir: string;
}

/** v1's default cpu.shares, for a weight of 100 (v2's default): shares = weight × 1024 / 100. */
const SHARES_PER_WEIGHT = 1024 / 100;

export class CgroupV1 implements SessionCgroup {
  readonly mode = 'cgroup-v1' as const;
  readonly procsFiles: readonly string[];
  enforced: CgroupLimits = {};
  private readonly dirs: V1Dir[];

  /** `paths`: per hierarchy, the session's cgroup path (as /proc/<pid>/cgroup shows it). */
  constructor(
    readonly sessionId: string,
    paths: ReadonlyArray<{ hierarchy: V1Hierarchy; path: string }>,
  ) {
    this.dirs = paths.map(({ hierarchy, path }) => ({ hierarchy, path, dir: join(hierarchy.mountPoint, path) }));
    this.procsFiles = this.dirs.map((entry) => join(entry.dir, 'cgroup.procs'));
  }

  /** Every hierarchy's directory, for creating them. */
  get directories(): string[] {
    return this.dirs.map((entry) => entry.dir);
  }

  private dirOf(controller: V1Controller): V1Dir | undefined {
    return this.dirs.find((entry) => entry.hierarchy.controllers.includes(controller));
  }

  private file(controller: V1Controller, name: string): string | undefined {
    const entry = this.dirOf(controller);
    return entry === undefined ? undefined : join(entry.dir, name);
  }

  applyLimits(limits: CgroupLimits): void {
    const set = (controller: V1Controller, name: string, value: string): boolean => {
      const path = this.file(controller, name);
      if (path === undefined) return false;
      writeCgroupFile(path, value);
      return true;
    };
    const enforced: CgroupLimits = {};
    if (limits.processes != null && set('pids', 'pids.max', String(limits.processes))) enforced.processes = limits.processes;
    if (limits.memoryBytes != null && set('memory', 'memory.limit_in_bytes', String(limits.memoryBytes))) {
      enforced.memoryBytes = limits.memoryBytes;
    }
    if (limits.cpuWeight != null && set('cpu', 'cpu.shares', String(Math.max(2, Math.round(limits.cpuWeight * SHARES_PER_WEIGHT))))) {
      enforced.cpuWeight = limits.cpuWeight;
    }
    this.enforced = enforced;
  }

  /** Members as the freezer hierarchy lists them: the one the kill acts on. */
  pids(): number[] {
    const freezer = this.file('freezer', 'cgroup.procs') ?? this.procsFiles[0];
    return freezer === undefined ? [] : readProcs(freezer);
  }

  /** Members of every hierarchy: a process that joined only some of them (the shim failed halfway) counts too. */
  private allPids(): number[] {
    return [...new Set(this.procsFiles.flatMap((file) => readProcs(file)))];
  }

  async kill(): Promise<CgroupKillResult> {
    const killed = this.allPids().length;
    if (killed === 0) return { killed, remaining: 0 };
    const freezer = this.dirOf('freezer');
    if (freezer !== undefined) {
      const state = join(freezer.dir, 'freezer.state');
      await killFrozenMembers({
        freeze: () => writeCgroupFile(state, 'FROZEN'),
        frozen: () => readCgroupFile(state)?.trim() === 'FROZEN',
        thaw: () => writeCgroupFile(state, 'THAWED'),
        pids: () => this.allPids(),
        isMember: (pid) => this.dirs.some((entry) => processCgroups(pid).get(entry.hierarchy.key) === entry.path),
      });
    }
    await pollUntil(KILL_SETTLE_MS, () => this.allPids().length === 0);
    return { killed, remaining: this.allPids().length };
  }

  usage(): CgroupUsage {
    const memory = this.file('memory', 'memory.usage_in_bytes');
    const cpu = this.file('cpuacct', 'cpuacct.usage');
    const cpuNs = cpu === undefined ? undefined : readCgroupNumber(cpu);
    return {
      memoryBytes: memory === undefined ? null : (readCgroupNumber(memory) ?? null),
      cpuMs: cpuNs === undefined ? null : Math.round(cpuNs / 1e6),
      processCount: this.pids().length,
    };
  }

  async remove(): Promise<boolean> {
    return pollUntil(REMOVE_SETTLE_MS, () => this.dirs.map((entry) => removeCgroupDir(entry.dir)).every(Boolean));
  }
}
