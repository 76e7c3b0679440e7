// Turns a cursor read of an output stream into the reply shape (PRODUCT §1.2, §5): raw bytes as base64 or UTF-8,
// or the text view; a read never ends inside a UTF-8 character, so the next read starts cleanly.

import type { OutputRead } from '../../protocol/sessionTypes.js';
import type { OutputStream } from './OutputStream.js';
import { toPlainText } from './textView.js';
import { textWindow } from './textWindow.js';
import { completeUtf8Length, utf8SequenceLength } from './utf8.js';

/** Largest single read of output (REST/MCP replies are bounded; callers page with nextOffset). */
const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface ReadOptions {
  since: number;
  format: 'raw' | 'text';
  encoding: 'base64' | 'utf8';
  maxBytes: number;
  stream: 'combined' | 'stdout' | 'stderr';
}

/**
 * `mayGrow`: the writer may still append (a live session). A decoded read (text, or utf8) then never ends inside a
 * character: its nextOffset stays before an incomplete one, even if that leaves the read empty, so the next read
 * decodes it whole. Once output has ended, an incomplete character at its very end is decoded as is (it is broken).
 * A `maxBytes` shorter than the character at `since` is stretched to that one character (at most 3 bytes over):
 * an empty read at the same offset would keep a follower with a tiny limit there forever.
 * A text read also keeps both window edges outside control sequences (textWindow.ts); the raw view is bytes as is.
 */
export function readView(stream: OutputStream, options: ReadOptions, mayGrow: boolean): OutputRead {
  const max = Math.min(Math.max(1, options.maxBytes), MAX_READ_BYTES);
  const read = stream.read(options.since, max);
  const reply = {
    offset: read.offset,
    firstAvailableOffset: read.firstAvailableOffset,
    gap: read.gap,
  };
  if (options.format === 'text') {
    const window = textWindow(stream, read.offset, max, mayGrow);
    const data = completeCharacters(stream, window.data, window.start, mayGrow);
    const nextOffset = data.length === 0 && window.skipTo !== undefined ? window.skipTo : window.start + data.length;
    return { ...reply, data: toPlainText(data.toString('utf8')), encoding: 'utf8', nextOffset };
  }
  if (options.encoding === 'utf8') {
    const data = completeCharacters(stream, read.data, read.offset, mayGrow);
    return { ...reply, data: data.toString('utf8'), encoding: 'utf8', nextOffset: read.offset + data.length };
  }
  return { ...reply, data: read.data.toString('base64'), encoding: 'base64', nextOffset: read.offset + read.data.length };
}

/** `data` (read at `offset`) without an incomplete UTF-8 character at its end, or stretched to its first one. */
function completeCharacters(stream: OutputStream, data: Buffer, offset: number, mayGrow: boolean): Buffer {
  const first = data[0];
  if (first === undefined) return data;
  let out = data;
  const firstLength = utf8SequenceLength(first);
  if (firstLength > out.length) out = stream.read(offset, firstLength).data;
  const complete = completeUtf8Length(out);
  const atEnd = offset + out.length >= stream.endOffset;
  if (complete < out.length && (mayGrow || !atEnd)) out = out.subarray(0, complete);
  return out;
}
