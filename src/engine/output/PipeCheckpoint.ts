// Where a pipe session's three journals (combined, stdout, stderr) were last on disk together. Each journal writes
// its batches on its own, so a daemon killed with kill -9 leaves them at unrelated ends: stdout or stderr ahead of
// combined (its bytes would never reach combined) or combined ahead (and nothing says which channel its extra bytes
// came from). The checkpoint is a triple of ends that were all on disk at once, written before the holder is told it
// may drop those bytes: a reattach cuts combined back to it and resumes each channel from it, so the holder resends
// exactly what combined lacks, and stdout / stderr skip what they already hold. No byte is lost or repeated in any
// of the three streams, wherever the kill lands.

import fs from 'node:fs';
import path from 'node:path';

export interface PipeOffsets {
  combined: number;
  stdout: number;
  stderr: number;
}

/** Three little-endian float64 (every safe integer is exact): one pwrite at offset 0, never torn by a kill. */
const RECORD_BYTES = 24;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export class PipeCheckpoint {
  private fd: number | null = null;
  private readonly record = Buffer.alloc(RECORD_BYTES);

  constructor(readonly file: string) {}

  /**
   * The triple a reattach resumes from. No file: nothing was ever acknowledged, so the holder still has every byte and
   * the session resumes from 0. Null: the file is unusable (not one record).
   */
  static read(file: string): PipeOffsets | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { combined: 0, stdout: 0, stderr: 0 };
      throw error;
    }
    if (data.length !== RECORD_BYTES) return null;
    const offsets = { combined: data.readDoubleLE(0), stdout: data.readDoubleLE(8), stderr: data.readDoubleLE(16) };
    return Object.values(offsets).every((n) => Number.isSafeInteger(n) && n >= 0) ? offsets : null;
  }

  /**
   * Records `offsets` (synchronously: the caller acknowledges the holder right after, and the checkpoint must never be
   * behind an acknowledgement). The same fixed-size record is overwritten in place, so the file always holds one.
   */
  write(offsets: PipeOffsets): void {
    if (this.fd === null) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: DIR_MODE });
      // Never O_TRUNC: a kill between a truncate and the write would leave no checkpoint at all.
      this.fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_CREAT, FILE_MODE);
    }
    this.record.writeDoubleLE(offsets.combined, 0);
    this.record.writeDoubleLE(offsets.stdout, 8);
    this.record.writeDoubleLE(offsets.stderr, 16);
    let done = 0;
    while (done < RECORD_BYTES) done += fs.writeSync(this.fd, this.record, done, RECORD_BYTES - done, done);
  }

  close(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** How a reattached pipe session continues, from its journals' ends and its checkpoint. */
export interface PipeResume {
  /** Where the combined journal is cut back to before its stream opens (null: it stays as it is). */
  cutCombinedTo: number | null;
  /** Per channel, the holder offset it resends from. */
  resume: { stdout: number; stderr: number };
  /** Leading resent bytes each stream already holds and must not append again. */
  skip: PipeOffsets;
}

/**
 * With a checkpoint every journal reaches (the normal case, whatever the kill point): combined is cut back to it,
 * both channels resend from it, and stdout / stderr skip the bytes their journals already have. Without one (a
 * journal lost bytes the checkpoint counted: a disk that refused them) each channel resumes at its journal's end
 * and combined skips what it holds beyond their sum, the best the journals alone can tell.
 */
export function planPipeResume(ends: PipeOffsets, checkpoint: PipeOffsets | null): PipeResume {
  if (checkpoint !== null && checkpoint.combined <= ends.combined && checkpoint.stdout <= ends.stdout && checkpoint.stderr <= ends.stderr) {
    return {
      cutCombinedTo: checkpoint.combined,
      resume: { stdout: checkpoint.stdout, stderr: checkpoint.stderr },
      skip: { combined: 0, stdout: ends.stdout - checkpoint.stdout, stderr: ends.stderr - checkpoint.stderr },
    };
  }
  return {
    cutCombinedTo: null,
    resume: { stdout: ends.stdout, stderr: ends.stderr },
    skip: { combined: Math.max(0, ends.combined - ends.stdout - ends.stderr), stdout: 0, stderr: 0 },
  };
}

/** Drops, per stream, the leading resent bytes its journal already holds (PipeResume.skip) as they arrive. */
export class ResendFilter {
  private readonly left: PipeOffsets;

  constructor(skip: PipeOffsets = { combined: 0, stdout: 0, stderr: 0 }) {
    this.left = { ...skip };
  }

  /** Resent bytes `stream` still drops: a checkpoint counts its end without them. */
  remaining(stream: keyof PipeOffsets): number {
    return this.left[stream];
  }

  /** `data` without the bytes `stream` already holds (usually all of it). */
  take(stream: keyof PipeOffsets, data: Buffer): Buffer {
    const skip = this.left[stream];
    if (skip === 0) return data;
    const skipped = Math.min(skip, data.length);
    this.left[stream] = skip - skipped;
    return data.subarray(skipped);
  }
}
