// The in-memory tail of a session's output: chunks with absolute offsets, bounded by bytes.
// Reads never consume; eviction only moves `firstOffset` forward, and callers report it as a gap.

interface Chunk {
  offset: number;
  data: Buffer;
}

export class OutputRing {
  /** Live chunks are `chunks[head..]`; slots before `head` are emptied at once and the array compacted lazily. */
  private chunks: (Chunk | undefined)[] = [];
  /** Index of the first live chunk in `chunks` (dropping from the front of an array is O(n); we compact lazily). */
  private head = 0;
  private bytes = 0;
  private end = 0;

  constructor(
    private readonly capBytes: number,
    startOffset = 0,
  ) {
    this.end = startOffset;
  }

  get endOffset(): number {
    return this.end;
  }

  get firstOffset(): number {
    const first = this.chunks[this.head];
    return first === undefined ? this.end : first.offset;
  }

  get size(): number {
    return this.bytes;
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    this.chunks.push({ offset: this.end, data });
    this.end += data.length;
    this.bytes += data.length;
    while (this.bytes > this.capBytes && this.head < this.chunks.length - 1) {
      const dropped = this.chunks[this.head];
      if (dropped === undefined) break;
      this.bytes -= dropped.data.length;
      // Let go of the bytes now: a dropped chunk left in its slot until compaction would keep up to a thousand
      // chunks alive past the cap (a 50 MB flood retained all of it).
      this.chunks[this.head] = undefined;
      this.head++;
    }
    // One chunk larger than the whole cap: keep only its tail.
    const only = this.chunks[this.head];
    if (this.bytes > this.capBytes && only !== undefined) {
      const cut = this.bytes - this.capBytes;
      this.chunks[this.head] = { offset: only.offset + cut, data: only.data.subarray(cut) };
      this.bytes -= cut;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Lets go of every byte held (the offsets go on from the end): an ended session reads from its journal instead. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.bytes = 0;
  }

  /**
   * Bytes from `offset` (clamped to what is held) up to `maxBytes`. Returns the offset actually read from,
   * which is later than asked when older bytes were evicted.
   */
  read(offset: number, maxBytes: number): { data: Buffer; offset: number } {
    const start = Math.max(offset, this.firstOffset);
    if (start >= this.end || maxBytes <= 0) return { data: Buffer.alloc(0), offset: Math.min(start, this.end) };
    const parts: Buffer[] = [];
    let want = maxBytes;
    let i = this.findChunk(start);
    let pos = start;
    while (i < this.chunks.length && want > 0) {
      const chunk = this.chunks[i];
      if (chunk === undefined) break;
      const from = pos - chunk.offset;
      const piece = chunk.data.subarray(from, from + want);
      parts.push(piece);
      want -= piece.length;
      pos += piece.length;
      i++;
    }
    return { data: parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts), offset: start };
  }

  private findChunk(offset: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const chunk = this.chunks[mid];
      if (chunk !== undefined && chunk.offset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
