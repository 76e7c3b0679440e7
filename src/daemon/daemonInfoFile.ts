// daemon.json, how clients find a running daemon: written once listening, never seen half written, and written
// even when the disk is full by the time the daemon listens. It decides nothing about the daemon.

import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DaemonInfo } from '../config/paths.js';

/** Far more than daemon.json needs (a URL and a pid), and within one disk block: the whole file fits the reservation. */
const RESERVED_BYTES = 1024;

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * daemon.json's space, claimed at start before anything else can take the disk's last free blocks (issue 15: on a
 * full disk, reattached sessions' journals took the block a removed daemon.json had freed, and the read-only start
 * then died writing daemon.json). The file is written aside and renamed into place: clients poll for daemon.json and
 * read it the moment it exists, so they must never see it half written (a fresh-clone CI run caught one read empty).
 */
export class DaemonInfoFile {
  private constructor(
    private readonly infoPath: string,
    private readonly aside: string,
    /** The file aside, already holding RESERVED_BYTES; null when the disk had no room for it even at start. */
    private fd: number | null,
  ) {}

  /** Claims the space, in a file aside that clients never read. Call it holding the data dir's lock. */
  static reserve(infoPath: string): DaemonInfoFile {
    removeStaleAsides(infoPath);
    const aside = `${infoPath}.${process.pid}.tmp`;
    let fd: number | null = null;
    try {
      fd = openSync(aside, 'w', 0o600);
      writeSync(fd, Buffer.alloc(RESERVED_BYTES, 0x20));
    } catch (error) {
      if (fd !== null) closeSync(fd);
      rmSync(aside, { force: true });
      if (!isDiskFull(error)) throw error;
      fd = null;
    }
    return new DaemonInfoFile(infoPath, aside, fd);
  }

  /**
   * Writes daemon.json: into the reserved file, then renamed into place. Without a reservation (the disk was full
   * already at start), a new file aside, or else an existing daemon.json (left by a crash) overwritten in place, in
   * the space it already has. Answers false when the disk had room for none of these: the daemon runs on, and
   * clients must be told its URL.
   */
  write(info: DaemonInfo): boolean {
    const text = Buffer.from(JSON.stringify(info) + '\n');
    if (this.fd === null) return writeWithoutReservation(this.infoPath, this.aside, text);
    const fd = this.fd;
    this.fd = null;
    try {
      // Within the blocks the file already has: no new space is needed, and cutting it back frees none it needs.
      writeSync(fd, text, 0, text.length, 0);
      ftruncateSync(fd, text.length);
    } catch (error) {
      closeSync(fd);
      rmSync(this.aside, { force: true });
      throw error;
    }
    closeSync(fd);
    renameSync(this.aside, this.infoPath);
    return true;
  }

  /** A start that never listened: the reservation goes. */
  discard(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.aside, { force: true });
  }
}

function writeWithoutReservation(infoPath: string, aside: string, text: Buffer): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(aside, 'w', 0o600);
    writeSync(fd, text);
    closeSync(fd);
    fd = null;
    renameSync(aside, infoPath);
    return true;
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(aside, { force: true });
    if (!isDiskFull(error)) throw error;
  }
  if (!existsSync(infoPath)) return false;
  const existing = openSync(infoPath, 'r+');
  try {
    writeSync(existing, text, 0, text.length, 0);
    ftruncateSync(existing, text.length);
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    return false;
  } finally {
    closeSync(existing);
  }
  return true;
}

/** Files aside left by daemons that died before they listened (a kill -9 at start): theirs is never renamed. */
function removeStaleAsides(infoPath: string): void {
  const prefix = `${basename(infoPath)}.`;
  const dir = dirname(infoPath);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // no data dir yet: nothing left behind either
    throw error;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
  }
}
