// Bounded polling shared by both cgroup versions: until a cgroup is empty, until a directory can be removed.
import { setTimeout as sleep } from 'node:timers/promises';

/** How often an emptiness check re-reads cgroup.procs: one small read each. */
const POLL_INTERVAL_MS = 10;
/**
 * How long a killed cgroup may take to empty: SIGKILLed tasks leave within milliseconds, unless one is in
 * uninterruptible sleep (a hung NFS read), which nothing from user space can hurry.
 */
export const KILL_SETTLE_MS = 5_000;
/** How long a removal retries EBUSY: the last task leaves the cgroup a moment after it died. */
export const REMOVE_SETTLE_MS = 2_000;

/** Polls `done` until true or `ms` passed; returns its last answer. */
export async function pollUntil(ms: number, done: () => boolean): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() >= deadline) return done();
    await sleep(POLL_INTERVAL_MS);
  }
  return true;
}
