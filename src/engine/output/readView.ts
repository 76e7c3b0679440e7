// Turns a cursor read of an output stream into the reply shape (PRODUCT §1.2, §5): raw bytes as base64 or UTF-8,
// or the text view; a read never ends inside a UTF-8 character, so the next read starts cleanly.

import type { OutputRead } from '../../common/sessionTypes.js';
import type { OutputStream } from './OutputStream.js';
import { toPlainText } from './textView.js';
import { completeUtf8Length } from './utf8.js';

/** Largest single read of output (REST/MCP replies are bounded; callers page with nextOffset). */
export const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface ReadOptions {
  since: number;
  format: 'raw' | 'text';
  encoding: 'base64' | 'utf8';
  maxBytes: number;
  stream: 'combined' | 'stdout' | 'stderr';
}

export function readView(stream: OutputStream, options: ReadOptions): OutputRead {
  const max = Math.min(Math.max(1, options.maxBytes), MAX_READ_BYTES);
  const read = stream.read(options.since, max);
  let data = read.data;
  const textual = options.format === 'text' || options.encoding === 'utf8';
  if (textual) {
    const complete = completeUtf8Length(data);
    // Only hold back an incomplete tail when more may follow it; at the very end it is a broken character.
    if (complete > 0) data = data.subarray(0, complete);
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
