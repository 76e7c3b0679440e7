// One daemon per data dir. A second one would "recover" the first one's live sessions as lost, kill their
// processes and take over daemon.json; `corral mcp` clients starting a daemon at the same moment would do exactly
// that. An flock on <data-dir>/daemon.lock, held for the daemon's life, makes the second one refuse instead.

import { closeSync, openSync, readFileSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_INFO_FILE } from '../config/paths.js';
import { native } from '../engine/process/nativeBinding.js';

const LOCK_FILE = 'daemon.lock';

export interface DataDirLock {
  release(): void;
}

/** Takes the data dir for this process, or throws (code DATA_DIR_IN_USE) naming the daemon that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  // Opened close-on-exec (libuv's default), so no session inherits the fd and keeps the lock past our death.
  const fd = openSync(join(dataDir, LOCK_FILE), 'a+', 0o600);
  let taken: boolean;
  try {
    taken = native.flockExclusive(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (!taken) {
    closeSync(fd);
    throw Object.assign(new Error(`Another Corral daemon is using the data dir ${dataDir}${describeHolder(dataDir)}.`), {
      code: 'DATA_DIR_IN_USE',
    });
  }
  // For people reading the file; the lock itself is what counts, so a full disk (the pid needs a block the truncate
  // gave back) leaves the file empty rather than stopping a start that may come up read-only.
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') {
      closeSync(fd);
      throw error;
    }
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      closeSync(fd);
    },
  };
}

/** " (pid N, listening on URL)" from the holder's daemon.json, when it has written one yet. */
function describeHolder(dataDir: string): string {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, DAEMON_INFO_FILE), 'utf8')) as { pid?: number; url?: string };
    return ` (pid ${info.pid}, listening on ${info.url})`;
  } catch {
    // Not written yet (it is still starting) or unreadable: the message stands without it.
    return '';
  }
}
