// The data dir's free space at start: below a floor the daemon starts read-only (issue 15: a restart on a full disk
// must come up and say so, not exit). It only measures; the store enforces read-only.

import { statfsSync } from 'node:fs';
import type { ReadOnlyReason } from '../store/Store.js';

/**
 * Below this much free space the daemon starts read-only: less than one session's first journal segment and a few
 * store pages, so anything it started would fail to record at once. Reading what is recorded still works.
 */
const MIN_FREE_BYTES_TO_START = 1024 * 1024;

/** The store's read-only reason when the data dir's disk is (nearly) full at start; empty otherwise. */
export function readOnlyIfDiskFull(dataDir: string): { readOnly?: ReadOnlyReason } {
  const disk = statfsSync(dataDir);
  const free = disk.bavail * disk.bsize;
  if (free >= MIN_FREE_BYTES_TO_START) return {};
  return {
    readOnly: {
      message:
        `The disk holding ${dataDir} has ${free} bytes free, so the daemon started read-only: recorded sessions and ` +
        'their output can be read, nothing new can be started or recorded (STORAGE_FULL). Free space and restart corral.',
    },
  };
}
