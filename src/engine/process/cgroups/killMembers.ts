// The kill that no fork outruns where the kernel has no cgroup.kill (cgroup v1, and v2 before 5.14): freeze the
// cgroup so no task runs (so none can fork), SIGKILL every member, then thaw so the kills take effect.
// Must never signal a process that is not in the cgroup: each pid is pinned with a pidfd, then checked to be a member.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { errnoCode, native } from '../nativeBinding.js';
import { pollUntil } from './cgroupWait.js';

/** How long a freeze may take to settle before we kill anyway (a task in uninterruptible sleep delays it). */
const FREEZE_SETTLE_MS = 1_000;
/** Kill rounds: one suffices once frozen; more cover a freeze that did not settle (a task was still forking). */
const KILL_ROUNDS = 10;

export interface FreezableCgroup {
  freeze(): void;
  /** True once every task of the cgroup is frozen. */
  frozen(): boolean;
  thaw(): void;
  pids(): number[];
  /** Whether `pid` (pinned by a pidfd while this is asked) is in the cgroup. */
  isMember(pid: number): boolean;
}

export async function killFrozenMembers(cgroup: FreezableCgroup): Promise<void> {
  for (let round = 0; round < KILL_ROUNDS && cgroup.pids().length > 0; round += 1) {
    cgroup.freeze();
    try {
      await pollUntil(FREEZE_SETTLE_MS, () => cgroup.frozen());
      for (const pid of cgroup.pids()) killMember(pid, cgroup);
    } finally {
      cgroup.thaw();
    }
    await pollUntil(FREEZE_SETTLE_MS, () => cgroup.pids().length === 0);
  }
}

function killMember(pid: number, cgroup: FreezableCgroup): void {
  let fd: number;
  try {
    fd = native.pidfdOpen(pid);
  } catch (error) {
    // ESRCH: it left (died) between the read of cgroup.procs and now.
    if (errnoCode(error) === 'ESRCH') return;
    throw error;
  }
  try {
    // The pidfd pins the process; only if that process is the member do we signal it (never a recycled pid).
    if (!cgroup.isMember(pid)) return;
    native.pidfdSendSignal(fd, constants.signals.SIGKILL);
  } catch (error) {
    // ESRCH: it died on its own meanwhile.
    if (errnoCode(error) !== 'ESRCH') throw error;
  } finally {
    closeSync(fd);
  }
}
