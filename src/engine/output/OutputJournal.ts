// On-disk journal of one session's output stream: segment files named by absolute start offset, capped in bytes,
// keeping the newest. It never does disk I/O per appended chunk, and never drops a byte without accounting for it:
// evicted bytes move firstAvailableOffset, bytes the disk refused (a full disk) are recorded as a gap.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * The cap is split into this many segments; eviction deletes a whole (oldest) segment, so the disk keeps between
 * (SEGMENTS_KEPT - 1) / SEGMENTS_KEPT of the cap and all of it. 4 keeps at least 75% while holding ≤ 5 files (≤ 1 open fd)
 * per session.
 */
export const SEGMENTS_KEPT = 4;

/**
 * Appended bytes not yet handed to the disk. Past this the append writes synchronously instead of growing memory:
 * 1 MiB is ~16 full 64 KiB PTY reads, far more than a healthy disk falls behind by between two event-loop turns,
 * and with one batch in flight it bounds a session's journal memory to 2 MiB.
 */
export const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * After the disk refuses a write, the journal records what follows as a gap and tries the disk again this long
 * later (on the next append): often enough to stop losing output soon after space is freed, rarely enough that a
 * full disk costs one failed open per session every few seconds.
 */
export const RETRY_AFTER_FAILURE_MS = 5_000;

/** Gap records kept per journal; past it the two oldest merge (the report widens, reads stay exact). */
const MAX_GAPS_KEPT = 64;

/** Digits of a segment's start offset in its file name: Number.MAX_SAFE_INTEGER has 16, so names sort as numbers. */
const OFFSET_DIGITS = 16;
const SEGMENT_SUFFIX = '.seg';
const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** Output can hold secrets the session printed: owner-only. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export interface OutputJournalOptions {
  /** Most bytes kept on disk for this session; the oldest are evicted past it. */
  capBytes: number;
  /** Tests shorten RETRY_AFTER_FAILURE_MS. */
  retryAfterFailureMs?: number;
}

/** Bytes [start, end) that are not on disk because writing them failed; `end` is null while still failing. */
export interface JournalGapRecord {
  start: number;
  end: number | null;
  /** The errno code that opened the gap (ENOSPC, EDQUOT, EIO). */
  code: string;
  at: string;
}

export interface JournalRead {
  data: Buffer;
  /** Offset of data[0]: the requested offset, moved up to firstAvailableOffset (or down to endOffset). */
  offset: number;
  /** Bytes between the requested offset and `offset` that are gone (evicted, or refused by the disk); 0 when none. */
  gap: number;
}

interface Segment {
  start: number;
  /** Bytes placed in this segment (written, or being written by the one batch in flight). */
  size: number;
  path: string;
  /** Open only while it is the segment being written or a write to it is still running. */
  fd: number | null;
  /** Writes placed on this segment that have not completed. */
  busy: number;
  retired: boolean;
}

interface WriteOp {
  seg: Segment;
  fd: number;
  position: number;
  data: Buffer;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class OutputJournal {
  private readonly dir: string;
  private readonly capBytes: number;
  private readonly segmentBytes: number;
  /** Oldest first; together they hold [firstAvailable, placedEnd) minus nothing. */
  private segments: Segment[];
  private diskBytes: number;
  private end: number;
  private firstAvailable: number;
  /** Offset after the last byte handed to the disk (written, in flight, or skipped as already evicted). */
  private placedEnd: number;
  /** Bytes [placedEnd, end), not yet handed to the disk. Held by reference: callers must not reuse an appended buffer. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The one asynchronous batch being written; readers serve it from memory until it is on disk. */
  private inFlight: { offset: number; data: Buffer } | null = null;
  private scheduled = false;
  private waiters: FlushWaiter[] = [];
  private failed: Error | null = null;
  /** performance.now() after which an append tries the disk again. */
  private retryAt = 0;
  private readonly retryAfterFailureMs: number;
  private readonly gapList: JournalGapRecord[] = [];
  private closing = false;
  /** False for a new journal until its first segment: a session that prints nothing never touches the disk. */
  private dirReady: boolean;

  private constructor(dir: string, capBytes: number, segments: Segment[], dirReady: boolean, retryAfterFailureMs = RETRY_AFTER_FAILURE_MS) {
    this.dir = dir;
    this.retryAfterFailureMs = retryAfterFailureMs;
    this.dirReady = dirReady;
    this.capBytes = capBytes;
    this.segmentBytes = Math.max(1, Math.floor(capBytes / SEGMENTS_KEPT));
    this.segments = segments;
    this.diskBytes = segments.reduce((sum, seg) => sum + seg.size, 0);
    const last = segments[segments.length - 1];
    this.end = last === undefined ? 0 : last.start + last.size;
    this.placedEnd = this.end;
    this.firstAvailable = segments[0]?.start ?? this.end;
    this.evict();
  }

  /**
   * A journal for a new stream in `dir`, which is created only when the first bytes are written: making directories
   * is the costliest file-system work of a session start, and many short sessions print little or nothing.
   */
  static create(dir: string, opts: OutputJournalOptions): OutputJournal {
    checkCap(opts.capBytes);
    return new OutputJournal(dir, opts.capBytes, [], false, opts.retryAfterFailureMs);
  }

  /**
   * Opens the journal in `dir` (created if missing). An existing dir is recovered from its segment names and sizes.
   * A hole between segments is output the disk refused (a gap, see `fail`): the segments on both sides stay, and a
   * read reports the hole as its gap. Segments that overlap a newer one cannot both be right: the older is deleted.
   */
  static open(dir: string, opts: OutputJournalOptions): OutputJournal {
    checkCap(opts.capBytes);
    fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    const found: Segment[] = [];
    for (const name of fs.readdirSync(dir)) {
      const match = SEGMENT_NAME.exec(name);
      if (match?.[1] === undefined) continue;
      const file = path.join(dir, name);
      found.push({ start: Number(match[1]), size: fs.statSync(file).size, path: file, fd: null, busy: 0, retired: false });
    }
    found.sort((a, b) => a.start - b.start);
    const kept: Segment[] = [];
    for (const seg of found.reverse()) {
      const next = kept[0];
      if (next !== undefined && seg.start + seg.size > next.start) unlinkIfPresent(seg.path);
      else kept.unshift(seg);
    }
    const last = kept[kept.length - 1];
    if (last !== undefined) last.fd = fs.openSync(last.path, 'r+');
    return new OutputJournal(dir, opts.capBytes, kept, true, opts.retryAfterFailureMs);
  }

  /** Deletes a journal directory and everything in it. */
  static async remove(dir: string): Promise<void> {
    await fsp.rm(dir, { recursive: true, force: true });
  }

  /** Offset after the last byte ever appended. */
  get endOffset(): number {
    return this.end;
  }

  /** Oldest offset still readable; bytes below it were evicted by the cap. */
  get firstAvailableOffset(): number {
    return this.firstAvailable;
  }

  /** The disk error the journal is failing with now, if any; meanwhile every new byte joins the open gap. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Every range of output the disk refused, oldest first (the last one open while still failing). */
  get gaps(): JournalGapRecord[] {
    return this.gapList.map((gap) => ({ ...gap }));
  }

  /** Hot path: records the chunk in memory and schedules a batched asynchronous write. Never throws for I/O. */
  append(chunk: Buffer): void {
    if (this.closing) throw new Error('OutputJournal.append after close');
    if (chunk.length === 0) return;
    if (this.failed !== null && performance.now() >= this.retryAt) this.resume();
    this.end += chunk.length;
    if (this.failed !== null) {
      // The disk refused earlier bytes: these join the open gap, never pretending to be readable from disk.
      this.placedEnd = this.end;
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.writePendingSync();
      return;
    }
    if (this.inFlight === null && !this.scheduled) {
      this.scheduled = true;
      // setImmediate, not a per-chunk write: every chunk of this event-loop turn goes out in one batch.
      setImmediate(() => {
        this.scheduled = false;
        this.startAsyncWrite();
      });
    }
  }

  /**
   * Resolves once every byte appended before the call is on disk (in the OS; no fsync: a daemon crash loses
   * nothing) or recorded in a gap because the disk refused it. Never rejects: a refused write is a gap, not an error.
   */
  flush(): Promise<void> {
    if (this.failed !== null) return Promise.resolve();
    const target = this.end;
    if (this.isDurable(target)) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ target, resolve, reject }));
    this.startAsyncWrite();
    return done;
  }

  /**
   * Up to `maxBytes` from `offset`, from disk and from bytes not yet written. An offset below firstAvailableOffset
   * or inside a gap the disk refused starts after it and `gap` counts the skipped bytes; a read stops at the next
   * gap (the following read reports it); an offset past endOffset reads nothing at endOffset.
   */
  read(offset: number, maxBytes: number): JournalRead {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
    let start = offset;
    let gap = 0;
    if (start < this.firstAvailable) {
      gap = this.firstAvailable - start;
      start = this.firstAvailable;
    }
    if (start > this.end) start = this.end;
    const want = Math.max(0, Math.floor(maxBytes));
    let stop = Math.min(this.end, start + want);
    const parts: Buffer[] = [];
    let pos = start;
    while (pos < stop) {
      if (pos >= this.placedEnd) {
        parts.push(this.readPending(pos, stop));
        break;
      }
      const flight = this.inFlight;
      if (flight !== null && pos >= flight.offset && pos < flight.offset + flight.data.length) {
        const upto = Math.min(stop, flight.offset + flight.data.length);
        parts.push(flight.data.subarray(pos - flight.offset, upto - flight.offset));
        pos = upto;
        continue;
      }
      const seg = this.segmentAt(pos);
      if (seg === undefined) {
        // A gap the disk refused: one read returns one contiguous run, so skip it only before the first byte.
        if (parts.length > 0) break;
        const resumeAt = this.afterHole(pos);
        gap += resumeAt - pos;
        start = pos = resumeAt;
        stop = Math.min(this.end, start + want);
        continue;
      }
      let upto = Math.min(stop, this.placedEnd, seg.start + seg.size);
      if (flight !== null && flight.offset > pos) upto = Math.min(upto, flight.offset);
      const data = readSegment(seg, pos - seg.start, upto - pos);
      parts.push(data);
      // A short read means the file was truncated behind our back: return what is there, never invented bytes.
      if (data.length < upto - pos) break;
      pos = upto;
    }
    return { data: parts.length === 1 && parts[0] !== undefined ? Buffer.from(parts[0]) : Buffer.concat(parts), offset: start, gap };
  }

  /**
   * Recovery only, on a journal just opened (nothing appended yet): forgets every byte from `offset` on, on disk too,
   * so the stream continues at `offset`. A pipe session's combined journal is cut back to where all three of its
   * journals were on disk together (PipeCheckpoint) and the holder resends the rest.
   */
  truncate(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.end) throw new RangeError(`cannot truncate a journal ending at ${this.end} to ${offset}`);
    if (this.pendingBytes > 0 || this.inFlight !== null || this.failed !== null) throw new Error('OutputJournal.truncate while writing');
    if (offset === this.end) return;
    this.cutBackTo(offset);
    this.end = this.placedEnd = offset;
    this.firstAvailable = Math.min(this.firstAvailable, offset);
    // cutBackTo closed the files; the segment now ending at `offset` takes the next bytes, as after open().
    const last = this.segments.at(-1);
    if (last !== undefined && last.start + last.size === offset) {
      last.retired = false;
      last.fd = fs.openSync(last.path, 'r+');
    }
  }

  /** Flushes, then closes the file descriptors (bytes the disk refused stay recorded as gaps). */
  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.flush();
    } finally {
      for (const seg of this.segments) {
        seg.retired = true;
        this.closeIfIdle(seg);
      }
    }
  }

  // ── Writing ─────────────────────────────────────────────────────────────────

  private startAsyncWrite(): void {
    if (this.inFlight !== null || this.pendingBytes === 0 || this.failed !== null) return;
    const batch = this.takePending();
    const ops = this.placeOrFail(batch.offset, batch.data);
    if (ops === null) return;
    this.inFlight = batch;
    runOps(ops, (op) => this.release(op.seg)).then(
      () => {
        this.inFlight = null;
        this.settleWaiters();
        this.startAsyncWrite();
      },
      (error: unknown) => {
        this.inFlight = null;
        // Expected: an errno from the disk (ENOSPC, EIO, EDQUOT). Anything else is a bug and must surface.
        if (!isErrno(error)) throw error;
        this.fail(error, batch.offset);
      },
    );
  }

  private writePendingSync(): void {
    const batch = this.takePending();
    const ops = this.placeOrFail(batch.offset, batch.data);
    if (ops === null) return;
    let done = 0;
    try {
      for (const op of ops) {
        writeAllSync(op.fd, op.data, op.position);
        this.release(op.seg);
        done++;
      }
    } catch (error) {
      for (const op of ops.slice(done)) this.release(op.seg);
      // Expected: an errno from the disk; append must not throw into the output pump for it.
      if (!isErrno(error)) throw error;
      this.fail(error, batch.offset);
      return;
    }
    this.settleWaiters();
  }

  /** place(), turning a disk error (open or unlink refused) into fail() instead of an exception on the hot path. */
  private placeOrFail(offset: number, data: Buffer): WriteOp[] | null {
    const ops: WriteOp[] = [];
    try {
      this.place(offset, data, ops);
      return ops;
    } catch (error) {
      for (const op of ops) this.release(op.seg);
      // Expected: an errno from the disk (ENOSPC, EMFILE, EACCES); anything else is a bug.
      if (!isErrno(error)) throw error;
      this.fail(error, offset);
      return null;
    }
  }

  private takePending(): { offset: number; data: Buffer } {
    const first = this.pending[0];
    const data = this.pending.length === 1 && first !== undefined ? first : Buffer.concat(this.pending, this.pendingBytes);
    const offset = this.placedEnd;
    this.placedEnd += data.length;
    this.pending = [];
    this.pendingBytes = 0;
    return { offset, data };
  }

  /** Assigns bytes [offset, offset + data.length) to segments (opening and evicting files as needed). */
  private place(offset: number, data: Buffer, ops: WriteOp[]): void {
    let pos = 0;
    if (data.length > this.capBytes) {
      // Everything on disk and the front of this batch would be evicted at once: skip writing them.
      for (const seg of this.segments) this.dropSegment(seg);
      this.segments = [];
      this.diskBytes = 0;
      pos = data.length - this.capBytes;
      this.firstAvailable = offset + pos;
    }
    while (pos < data.length) {
      const at = offset + pos;
      let cur = this.segments[this.segments.length - 1];
      if (cur === undefined || cur.size >= this.segmentBytes || cur.start + cur.size !== at) cur = this.startSegment(at);
      if (cur.fd === null) throw new Error(`OutputJournal: segment ${cur.path} is not open for writing`);
      const n = Math.min(this.segmentBytes - cur.size, data.length - pos);
      ops.push({ seg: cur, fd: cur.fd, position: cur.size, data: data.subarray(pos, pos + n) });
      cur.busy++;
      cur.size += n;
      this.diskBytes += n;
      pos += n;
      this.evict();
    }
  }

  private startSegment(start: number): Segment {
    const prev = this.segments[this.segments.length - 1];
    if (prev !== undefined) {
      prev.retired = true;
      this.closeIfIdle(prev);
    }
    if (!this.dirReady) {
      fs.mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
      this.dirReady = true;
    }
    const file = path.join(this.dir, `${String(start).padStart(OFFSET_DIGITS, '0')}${SEGMENT_SUFFIX}`);
    const seg: Segment = { start, size: 0, path: file, fd: fs.openSync(file, 'w+', FILE_MODE), busy: 0, retired: false };
    this.segments.push(seg);
    return seg;
  }

  /** Deletes oldest segments until the disk holds at most capBytes (the segment being written always stays). */
  private evict(): void {
    while (this.diskBytes > this.capBytes && this.segments.length > 1) {
      const oldest = this.segments.shift();
      if (oldest === undefined) break;
      this.diskBytes -= oldest.size;
      this.dropSegment(oldest);
      this.firstAvailable = Math.max(this.firstAvailable, oldest.start + oldest.size);
    }
  }

  private dropSegment(seg: Segment): void {
    unlinkIfPresent(seg.path);
    seg.retired = true;
    // A write still running on it finishes into the unlinked file; its fd closes when it does.
    this.closeIfIdle(seg);
  }

  private release(seg: Segment): void {
    seg.busy--;
    this.closeIfIdle(seg);
  }

  private closeIfIdle(seg: Segment): void {
    if (seg.retired && seg.busy === 0 && seg.fd !== null) {
      fs.closeSync(seg.fd);
      seg.fd = null;
    }
  }

  /**
   * The disk refused bytes from `from` on: they and everything appended until the next retry form a gap. What was
   * written before `from` stays readable; segments are cut back to it so no partly written byte is ever read.
   */
  private fail(error: NodeJS.ErrnoException, from: number): void {
    const open = this.gapList.at(-1);
    if (this.failed !== null && open !== undefined && open.end === null) {
      // A batch still in flight failed after a later synchronous one: the gap starts earlier.
      if (from < open.start) {
        open.start = from;
        this.cutBackTo(from);
      }
      return;
    }
    this.failed = error;
    this.retryAt = performance.now() + this.retryAfterFailureMs;
    this.gapList.push({ start: from, end: null, code: error.code ?? error.name, at: new Date().toISOString() });
    if (this.gapList.length > MAX_GAPS_KEPT) {
      const [oldest, next] = this.gapList;
      if (oldest !== undefined && next !== undefined) this.gapList.splice(0, 2, { ...oldest, end: next.end });
    }
    this.cutBackTo(from);
    this.pending = [];
    this.pendingBytes = 0;
    this.placedEnd = this.end;
    // Every byte up to the end is now either on disk or in the gap: nothing is left to wait for.
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  /** Tries the disk again: the open gap ends here, and the next batch starts a new segment after it. */
  private resume(): void {
    const open = this.gapList.at(-1);
    if (open !== undefined && open.end === null) open.end = this.end;
    this.failed = null;
  }

  /** Forgets every byte on disk from `from` on (closing the files: the next write starts a new segment). */
  private cutBackTo(from: number): void {
    const kept: Segment[] = [];
    for (const seg of this.segments) {
      seg.retired = true;
      if (seg.start >= from) {
        this.dropSegment(seg);
        continue;
      }
      if (seg.start + seg.size > from) {
        seg.size = from - seg.start;
        // A later write may have landed past a failed one, leaving zeros between: the file must not hold them.
        truncateIfPresent(seg.path, seg.size);
      }
      this.closeIfIdle(seg);
      kept.push(seg);
    }
    this.segments = kept;
    this.diskBytes = kept.reduce((sum, seg) => sum + seg.size, 0);
    if (kept.length === 0) this.firstAvailable = Math.max(this.firstAvailable, Math.min(from, this.end));
  }

  /** The first offset after a hole at `pos` that holds bytes: the next segment, the batch in flight, or the pending bytes. */
  private afterHole(pos: number): number {
    let next = this.placedEnd;
    const flight = this.inFlight;
    if (flight !== null && flight.offset > pos) next = Math.min(next, flight.offset);
    for (const seg of this.segments) {
      if (seg.start > pos) {
        next = Math.min(next, seg.start);
        break;
      }
    }
    return Math.max(next, pos);
  }

  // ── Reading ─────────────────────────────────────────────────────────────────

  private isDurable(target: number): boolean {
    return this.placedEnd >= target && (this.inFlight === null || this.inFlight.offset >= target);
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const waiter of this.waiters) {
      if (this.isDurable(waiter.target)) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  private segmentAt(offset: number): Segment | undefined {
    // Binary search: segments are sorted and contiguous.
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const seg = this.segments[mid];
      if (seg === undefined) return undefined;
      if (offset < seg.start) hi = mid - 1;
      else if (offset >= seg.start + seg.size) lo = mid + 1;
      else return seg;
    }
    return undefined;
  }

  private readPending(from: number, to: number): Buffer {
    const parts: Buffer[] = [];
    let chunkStart = this.placedEnd;
    for (const chunk of this.pending) {
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > from && chunkStart < to) {
        parts.push(chunk.subarray(Math.max(0, from - chunkStart), Math.min(chunk.length, to - chunkStart)));
      }
      if (chunkEnd >= to) break;
      chunkStart = chunkEnd;
    }
    return Buffer.concat(parts);
  }
}

function checkCap(capBytes: number): void {
  if (!Number.isSafeInteger(capBytes) || capBytes < 1) {
    throw new RangeError(`capBytes must be a positive integer, got ${capBytes}`);
  }
}

function readSegment(seg: Segment, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const fd = seg.fd ?? fs.openSync(seg.path, 'r');
  try {
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, buf, got, length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? buf : buf.subarray(0, got);
  } finally {
    if (fd !== seg.fd) fs.closeSync(fd);
  }
}

/** Writes in order; every op is passed to onDone exactly once, also the ones skipped after an error. */
async function runOps(ops: WriteOp[], onDone: (op: WriteOp) => void): Promise<void> {
  let done = 0;
  try {
    for (const op of ops) {
      await writeAll(op.fd, op.data, op.position);
      onDone(op);
      done++;
    }
  } finally {
    for (const op of ops.slice(done)) onDone(op);
  }
}

function writeAll(fd: number, data: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done >= data.length) {
        resolve();
        return;
      }
      fs.write(fd, data, done, data.length - done, position + done, (error, written) => {
        if (error !== null) reject(error);
        else step(done + written);
      });
    };
    step(0);
  });
}

function writeAllSync(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, position + done);
}

function truncateIfPresent(file: string, size: number): void {
  try {
    fs.truncateSync(file, size);
  } catch (error) {
    // ENOENT: already gone (someone removed the dir); nothing to cut back.
    if (!(isErrno(error) && error.code === 'ENOENT')) throw error;
  }
}

function unlinkIfPresent(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (error) {
    // ENOENT: already gone (someone removed the dir), which is what we wanted.
    if (!(isErrno(error) && error.code === 'ENOENT')) throw error;
  }
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}
