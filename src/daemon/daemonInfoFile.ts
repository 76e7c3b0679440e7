// daemon.json, how clients find a running daemon: written once listening, never seen half written, and written
// even on a full disk when a crash left an old one behind. It decides nothing about the daemon.

import { closeSync, existsSync, ftruncateSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { DaemonInfo } from '../config/paths.js';

/**
 * Writes daemon.json aside and renames it into place: clients poll for it and read it the moment it exists, so they
 * must never see it half written (a fresh-clone CI run caught a client reading it empty). On a full disk the file
 * aside cannot be written; an existing daemon.json (left by a crash) is then overwritten in place, in the space it
 * already has, so clients still find a daemon that started read-only.
 */
export function writeDaemonInfo(infoPath: string, info: DaemonInfo): void {
  const text = JSON.stringify(info) + '\n';
  const aside = `${infoPath}.${process.pid}.tmp`;
  try {
    writeFileSync(aside, text, { mode: 0o600 });
  } catch (error) {
    rmSync(aside, { force: true });
    // ENOSPC/EDQUOT: no room for a new file; anything else is reported as it is.
    const code = (error as NodeJS.ErrnoException).code;
    if ((code !== 'ENOSPC' && code !== 'EDQUOT') || !existsSync(infoPath)) throw error;
    const fd = openSync(infoPath, 'r+');
    try {
      writeSync(fd, text, 0);
      ftruncateSync(fd, Buffer.byteLength(text));
    } finally {
      closeSync(fd);
    }
    return;
  }
  renameSync(aside, infoPath);
}
