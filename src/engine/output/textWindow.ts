// The byte window of a bounded text read, with both edges moved outside control sequences: a read that starts inside
// an OSC (say the shell-integration `633;<nonce>;P;Cwd=…`) starts after it, and one that would end inside a sequence
// ends before it, so the text view never shows a fragment of one, whatever `since` and `maxBytes` are.

import type { OutputStream } from './OutputStream.js';
import { INCOMPLETE, lastSequenceStart, openSequenceAtEnd, sequenceEnd, startsSequence } from './controlSequences.js';

/**
 * Longest control sequence looked for across a window edge (64 KiB: an OSC 633;E carries the command line, which
 * can be a long paste). A longer unterminated one is only kept out of the text where it was seen starting.
 */
const MAX_SEQUENCE_BYTES = 64 * 1024;
/** The first look back for a sequence's start: most windows find one, or plain text, within this. */
const SHORT_LOOKBACK_BYTES = 512;

export interface TextWindow {
  /** Offset of `data[0]`. */
  start: number;
  data: Buffer;
  /** When `data` is empty: where the next read should start (past control bytes that show nothing). */
  skipTo?: number;
}

export function textWindow(stream: OutputStream, since: number, maxBytes: number, mayGrow: boolean): TextWindow {
  const start = startOutsideSequence(stream, since, mayGrow);
  if (start === null) return { start: since, data: Buffer.alloc(0) }; // inside a sequence still being written
  if (start > since) {
    const rest = stream.read(start, maxBytes + 1);
    if (rest.data.length === 0) return { start: since, data: Buffer.alloc(0), skipTo: start };
    return endOutsideSequence(stream, rest.offset, rest.data, maxBytes, mayGrow);
  }
  return endOutsideSequence(stream, since, stream.read(since, maxBytes + 1).data, maxBytes, mayGrow);
}

/**
 * `since`, or the end of the sequence it lies inside; null when that sequence is not finished yet (the writer may
 * still complete it). After an ended session's unterminated sequence, the end of the output.
 */
function startOutsideSequence(stream: OutputStream, since: number, mayGrow: boolean): number | null {
  for (const lookback of [SHORT_LOOKBACK_BYTES, MAX_SEQUENCE_BYTES]) {
    const from = Math.max(stream.firstAvailableOffset, since - lookback);
    if (from >= since) return since;
    const before = stream.read(from, since - from + 1); // one byte more: a C2 just before `since` may open a sequence
    const opener = lastSequenceStart(before.data, since - before.offset);
    if (opener < 0) {
      if (before.offset <= stream.firstAvailableOffset) return since; // nothing earlier to look at
      continue;
    }
    const openerOffset = before.offset + opener;
    const around = stream.read(openerOffset, since - openerOffset + MAX_SEQUENCE_BYTES);
    const end = sequenceEnd(around.data, 0);
    if (end !== INCOMPLETE) return Math.max(since, openerOffset + end);
    const reachedEnd = around.offset + around.data.length >= stream.endOffset;
    if (!reachedEnd) return since; // longer than any sequence looked for: treat it as ended
    return mayGrow ? null : stream.endOffset;
  }
  return since;
}

/**
 * The window (`maxBytes` of `data`; its one byte more tells whether a last C2 opens an 8-bit sequence) cut before
 * a sequence still open at its end; a window that is all one long sequence is skipped.
 */
function endOutsideSequence(stream: OutputStream, start: number, data: Buffer, maxBytes: number, mayGrow: boolean): TextWindow {
  const window = data.subarray(0, maxBytes);
  let open = openSequenceAtEnd(window);
  if (open < 0 && data.length > maxBytes && startsSequence(data, maxBytes - 1)) open = maxBytes - 1;
  if (open < 0) return { start, data: window };
  if (open > 0) return { start, data: window.subarray(0, open) };
  const whole = stream.read(start, MAX_SEQUENCE_BYTES);
  const end = sequenceEnd(whole.data, 0);
  const empty = Buffer.alloc(0);
  if (end !== INCOMPLETE) return { start, data: empty, skipTo: start + end };
  const reachedEnd = whole.offset + whole.data.length >= stream.endOffset;
  if (!reachedEnd) return { start, data: empty, skipTo: start + whole.data.length };
  return mayGrow ? { start, data: empty } : { start, data: empty, skipTo: stream.endOffset };
}
