// Sends signals to processes named by identity (pid + start time) through pidfds, and to process groups.
// Must never signal a pid that may have been recycled: every send is proven to reach the process we named.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { isDeadState, type ProcessIdentity } from './ProcessIdentity.js';
import { errnoCode, native } from './nativeBinding.js';
import { readProcStat } from './procfs.js';

export type SignalOutcome = 'sent' | 'gone';

function signalNumber(signal: NodeJS.Signals): number {
  const signo = constants.signals[signal];
  if (typeof signo !== 'number') throw new RangeError(`Unknown signal ${signal}`);
  return signo;
}

/**
 * Sends `signal` to exactly the process `id` names. The pidfd is opened first and the start time checked after,
 * so the fd provably refers to the process we meant; a recycled pid or a zombie answers 'gone' and gets nothing.
 */
export function signalProcess(id: ProcessIdentity, signal: NodeJS.Signals): SignalOutcome {
  const signo = signalNumber(signal);
  let fd: number;
  try {
    fd = native.pidfdOpen(id.pid);
  } catch (error) {
    // ESRCH: no process has this pid any more.
    if (errnoCode(error) === 'ESRCH') return 'gone';
    throw error;
  }
  try {
    const stat = readProcStat(id.pid);
    // The fd pins whatever holds the pid now; if that is not the process we named, send nothing.
    if (stat === undefined || stat.startTime !== id.startTime || isDeadState(stat.state)) return 'gone';
    try {
      native.pidfdSendSignal(fd, signo);
    } catch (error) {
      // ESRCH: it exited (and was reaped) between the check and the send.
      if (errnoCode(error) === 'ESRCH') return 'gone';
      throw error;
    }
    return 'sent';
  } finally {
    closeSync(fd);
  }
}

/**
 * Sends `signal` to process group `pgid`, but only while one of `members` is alive in it: a live member keeps the
 * pgid number allocated (the kernel frees a pid only once no process uses it as pid, pgid or sid), so a recycled
 * pgid is never hit. When a member is our own child, nothing can reap it between the check and the send.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals, members: readonly ProcessIdentity[]): SignalOutcome {
  const signo = signalNumber(signal);
  if (pgid <= 1) throw new RangeError(`Refusing to signal process group ${pgid}`);
  // A session that shares our group would take the daemon down with it.
  if (pgid === readProcStat(process.pid)?.pgid) throw new RangeError(`Refusing to signal our own process group ${pgid}`);
  const anchored = members.some((member) => {
    const stat = readProcStat(member.pid);
    return stat !== undefined && stat.startTime === member.startTime && !isDeadState(stat.state) && stat.pgid === pgid;
  });
  if (!anchored) return 'gone';
  try {
    process.kill(-pgid, signo);
  } catch (error) {
    // ESRCH: every member of the group has exited since the check.
    if (errnoCode(error) === 'ESRCH') return 'gone';
    throw error;
  }
  return 'sent';
}
