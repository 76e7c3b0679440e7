// Names one process for good: pid plus its start time, so a recycled pid never passes for the original.
// Must never report a zombie or a different process with the same pid as alive.
import { readProcStat } from './procfs.js';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTime: number;
}

/** The identity of `pid` right now, or undefined when there is no such process. */
export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readProcStat(pid);
  return stat === undefined ? undefined : { pid: stat.pid, startTime: stat.startTime };
}

/** True when the very process `id` names still exists and has not exited (a zombie is dead). */
export function isAlive(id: ProcessIdentity): boolean {
  const stat = readProcStat(id.pid);
  return stat !== undefined && stat.startTime === id.startTime && !isDeadState(stat.state);
}

/** Z (zombie) and X (dead) processes have exited: only their pid slot remains. */
export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X';
}

/** A map key for an identity. */
export function identityKey(id: ProcessIdentity): string {
  return `${id.pid}:${id.startTime}`;
}
