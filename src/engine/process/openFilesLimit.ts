// Raises the daemon's descriptor soft limit to its hard limit at start, where the kernel allows: the soft limit
// (often 1,024) is a compatibility default for select()-era programs, and a daemon holding many sessions and
// clients needs the room. Never lowers a limit and never touches the hard one.

import { readFileSync } from 'node:fs';
import { errnoCode, native, type ResourceLimit } from './nativeBinding.js';

/** The kernel's cap on any descriptor limit; an unlimited hard limit cannot be used as a soft one past it. */
const NR_OPEN_PATH = '/proc/sys/fs/nr_open';

export interface OpenFilesRaise {
  before: ResourceLimit;
  after: ResourceLimit;
  /** Why the soft limit could not be raised (the errno name), when it could not. */
  refused: string | null;
}

function nrOpen(): number {
  try {
    return Number.parseInt(readFileSync(NR_OPEN_PATH, 'utf8'), 10);
  } catch (error) {
    // ENOENT/EACCES (no procfs, a sandbox): Linux's default nr_open.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') return 1024 * 1024;
    throw error;
  }
}

export function raiseOpenFilesLimit(): OpenFilesRaise {
  const before = native.getResourceLimit('nofile');
  const target = Number.isFinite(before.hard) ? before.hard : nrOpen();
  if (before.soft >= target) return { before, after: before, refused: null };
  try {
    native.setSoftResourceLimit('nofile', target);
  } catch (error) {
    // EPERM (a sandbox forbids it) or EINVAL (past nr_open): the daemon runs with the limit it has.
    const code = errnoCode(error);
    if (code !== 'EPERM' && code !== 'EINVAL') throw error;
    return { before, after: before, refused: code };
  }
  return { before, after: native.getResourceLimit('nofile'), refused: null };
}
