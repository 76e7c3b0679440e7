// One session stream (the combined terminal output, or stdout / stderr of a pipe session): absolute offsets,
// an in-memory ring for fast reads and live followers, and an on-disk journal for everything older.
// It never consumes on read and never hides a loss: every read says how many bytes before it are gone.

import { Emitter, type Event } from '../../common/lifecycle.js';
import { OutputRing } from './OutputRing.js';
import type { JournalGapRecord, OutputJournal } from './OutputJournal.js';

export interface OutputChunk {
  offset: number;
  data: Buffer;
}

export interface StreamRead {
  data: Buffer;
  /** Offset of data[0]; later than asked when older bytes are gone. */
  offset: number;
  nextOffset: number;
  firstAvailableOffset: number;
  /** Bytes lost between the asked offset and `offset`. */
  gap: number;
}

export class OutputStream {
  private readonly ring: OutputRing;
  private readonly onDataEmitter = new Emitter<OutputChunk>();
  readonly onData: Event<OutputChunk> = this.onDataEmitter.event;

  constructor(
    /** Newest bytes kept in memory whatever the journal does (a full disk, a small cap). */
    readonly memoryCapBytes: number,
    private readonly journal: OutputJournal | null,
  ) {
    // After a restart the journal already holds bytes: the stream continues from its end.
    this.ring = new OutputRing(memoryCapBytes, journal?.endOffset ?? 0);
  }

  get endOffset(): number {
    return this.ring.endOffset;
  }

  get firstAvailableOffset(): number {
    return this.journal === null ? this.ring.firstOffset : Math.min(this.journal.firstAvailableOffset, this.ring.firstOffset);
  }

  /** Output bytes this stream holds in memory (its ring). */
  get memoryBytes(): number {
    return this.ring.size;
  }

  /** Ranges the journal could not write to disk (a full disk); empty without a journal or trouble. */
  get journalGaps(): JournalGapRecord[] {
    return this.journal?.gaps ?? [];
  }

  /** Hot path: keep it to a ring push, a journal enqueue and the listeners. */
  append(data: Buffer): void {
    if (data.length === 0) return;
    const offset = this.ring.endOffset;
    this.ring.append(data);
    this.journal?.append(data);
    this.onDataEmitter.fire({ offset, data });
  }

  read(since: number, maxBytes: number): StreamRead {
    const end = this.ring.endOffset;
    const asked = Math.max(0, Math.min(since, end));
    let result: { data: Buffer; offset: number };
    if (asked >= this.ring.firstOffset || this.journal === null) {
      result = this.ring.read(asked, maxBytes);
    } else {
      const fromDisk = this.journal.read(asked, maxBytes);
      result = { data: fromDisk.data, offset: fromDisk.offset };
      // The journal may end before the ring begins only if the disk cap is smaller than the ring; read on from memory.
      if (result.data.length === 0 && result.offset < end) result = this.ring.read(result.offset, maxBytes);
      // The disk skipped past bytes it refused that memory still holds: serve them from the ring instead.
      if (result.offset > this.ring.firstOffset) result = this.ring.read(this.ring.firstOffset, maxBytes);
    }
    return {
      data: result.data,
      offset: result.offset,
      nextOffset: result.offset + result.data.length,
      firstAvailableOffset: this.firstAvailableOffset,
      gap: result.offset - asked,
    };
  }

  /**
   * The stream has ended and its journal holds every byte the ring does: the ring lets go of them, and reads come from
   * the journal. An ended session kept in memory is then a small record, not up to a ring's worth of output. Without
   * a journal, or with bytes the disk refused, the ring stays (it may be the only copy). Call after flush().
   */
  releaseMemory(): void {
    const journal = this.journal;
    if (journal === null || journal.gaps.length > 0 || journal.endOffset !== this.ring.endOffset) return;
    if (journal.firstAvailableOffset > this.ring.firstOffset) return;
    this.ring.clear();
  }

  async flush(): Promise<void> {
    await this.journal?.flush();
  }

  async close(): Promise<void> {
    this.onDataEmitter.dispose();
    await this.journal?.close();
  }
}
