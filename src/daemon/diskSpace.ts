// The data dir's free space at start: below a floor the daemon starts read-only (issue 15: a restart on a full disk
// must come up and say so, not exit). It only measures; the store enforces read-only.

import { statfsSync } from 'node:fs';
import type { ReadOnlyReason } from '../store/Store.js';

/**
 * Below this much free space the daemon starts read-only: less than one session's first journal segment and a few
 * store pages, so anything it started would fail to record at once. Reading what is recorded still works.
 */
const MIN_FREE_BYTES_TO_START = 1024 * 1024;
/** Likewise for files: a session needs a few (its holder's socket, its journal segments, its directory). */
const MIN_FREE_INODES_TO_START = 64;

/** The store's read-only reason when the data dir's disk is (nearly) full at start; empty otherwise. */
export function readOnlyIfDiskFull(dataDir: string): { readOnly?: ReadOnlyReason } {
  const disk = statfsSync(dataDir);
  const free = disk.bavail * disk.bsize;
  // A filesystem that reports no inode count (btrfs: 0) has no inode limit to run out of.
  if (disk.files > 0 && disk.ffree < MIN_FREE_INODES_TO_START) {
    return {
      readOnly: {
        message:
          `The disk holding ${dataDir} has ${disk.ffree} free inodes (files) left, so the daemon started read-only: recorded ` +
          'sessions and their output can be read, nothing new can be started or recorded (STORAGE_FULL). Delete files and restart corral.',
      },
    };
  }
  if (free >= MIN_FREE_BYTES_TO_START) return {};
  return {
    readOnly: {
      message:
        `The disk holding ${dataDir} has ${free} bytes free, so the daemon started read-only: recorded sessions and ` +
        'their output can be read, nothing new can be started or recorded (STORAGE_FULL). Free space and restart corral.',
    },
  };
}
