// UTF-8 helpers for cursor reads: a read must not end inside a character, or the next read would start with
// a broken one. Pure functions.

/** Length of the longest prefix of `buf` that does not end inside a UTF-8 sequence (at most 3 bytes shorter). */
export function completeUtf8Length(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = buf[n - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    return utf8SequenceLength(byte) > back ? n - back : n;
  }
  return n;
}

/**
 * Bytes of the UTF-8 sequence a byte starts: 2 to 4 for a lead byte, else 1 (ASCII, and bytes that cannot start a
 * sequence: a stray continuation byte or F8-FF decode to one replacement character, waiting would not complete them).
 */
export function utf8SequenceLength(byte: number): number {
  if (byte >= 0xf8) return 1;
  if (byte >= 0xf0) return 4;
  if (byte >= 0xe0) return 3;
  if (byte >= 0xc0) return 2;
  return 1;
}

