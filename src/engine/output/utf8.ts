// UTF-8 helpers: a cursor read must not end inside a character (or the next read would start with a broken one),
// and input text must have a UTF-8 form at all. Pure functions.

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


/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Index of the first lone surrogate in `text`, or -1 when it is well formed. A lone surrogate has no UTF-8 form:
 * Buffer.from would write U+FFFD in its place, so text carrying one is refused rather than silently changed.
 */
export function loneSurrogateIndex(text: string): number {
  return LONE_SURROGATE.exec(text)?.index ?? -1;
}
