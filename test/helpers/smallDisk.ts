// A real small disk for full-disk tests: a tmpfs of a few MiB mounted on a fresh directory (root only), a filler
// file that takes every free byte, and unmounting afterwards. Tests skip, saying why, where mounting is refused.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Writes a filler file until the disk refuses (ENOSPC); answers the bytes it took. */
  fill(): number;
  /** Deletes the filler: the disk has room again. */
  unfill(): void;
  freeBytes(): number;
  /** Creates empty files until the disk has no free inode (ENOSPC); answers how many. */
  fillInodes(): number;
  /** Deletes those files. */
  unfillInodes(): void;
  unmount(): void;
}

/**
 * Mounts a tmpfs of `sizeMiB` (and at most `inodes` files), or answers why it cannot (not root, no mount permission
 * in this container).
 */
export function mountSmallDisk(sizeMiB: number, options: { inodes?: number } = {}): SmallDisk | string {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = mkdtempSync(join(tmpdir(), 'corral-small-disk-'));
  const inodes = options.inodes === undefined ? '' : `,nr_inodes=${options.inodes}`;
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700${inodes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs was refused: ${(mounted.stderr || mounted.error?.message || '').trim()}`;
  }
  const filler = join(dir, 'filler');
  const inodeFillers = join(dir, 'inode-fillers');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        // Big blocks first, then small ones for the last pages.
        for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
          const block = Buffer.alloc(size, 0x61);
          for (;;) {
            try {
              written += writeSync(fd, block);
            } catch (error) {
              // ENOSPC: this block size no longer fits; try the next smaller one.
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    unfill() {
      rmSync(filler, { force: true });
    },
    freeBytes() {
      const disk = statfsSync(dir);
      return disk.bavail * disk.bsize;
    },
    fillInodes() {
      mkdirSync(inodeFillers, { recursive: true });
      let made = 0;
      for (;;) {
        try {
          closeSync(openSync(join(inodeFillers, String(made)), 'w'));
          made++;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          return made;
        }
      }
    },
    unfillInodes() {
      rmSync(inodeFillers, { recursive: true, force: true });
    },
    unmount() {
      // Lazy: a daemon that is being killed may still hold a file open for a moment.
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
