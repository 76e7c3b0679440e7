// Turns a cursor read of an output stream into the reply shape (PRODUCT §1.2, §5): raw bytes as base64 or UTF-8,
// or the text view; a read never ends inside a UTF-8 character, so the next read starts cleanly.

import type { OutputRead } from '../../protocol/sessionTypes.js';
import type { OutputStream } from './OutputStream.js';
import { toPlainText } from './textView.js';
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
 */
export function readView(stream: OutputStream, options: ReadOptions, mayGrow: boolean): OutputRead {
  const max = Math.min(Math.max(1, options.maxBytes), MAX_READ_BYTES);
  const read = stream.read(options.since, max);
  let data = read.data;
  const textual = options.format === 'text' || options.encoding === 'utf8';
  const first = data[0];
  if (textual && first !== undefined) {
    const firstLength = utf8SequenceLength(first);
    if (firstLength > data.length) data = stream.read(read.offset, firstLength).data;
    const complete = completeUtf8Length(data);
    const atEnd = read.offset + data.length >= stream.endOffset;
    if (complete < data.length && (mayGrow || !atEnd)) data = data.subarray(0, complete);
  }
  let payload: string;
  if (options.format === 'text') payload = toPlainText(data.toString('utf8'));
  else if (options.encoding === 'utf8') payload = data.toString('utf8');
  else payload = data.toString('base64');
  return {
    data: payload,
    encoding: textual ? 'utf8' : 'base64',
    offset: read.offset,
    nextOffset: read.offset + data.length,
    firstAvailableOffset: read.firstAvailableOffset,
    gap: read.gap,
  };
}
