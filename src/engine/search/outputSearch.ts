// The line view with server-side regex include/exclude, and search of a session's whole kept output (memory
// ring and disk journal) answering byte offsets and line excerpts. Reads only; every scan is bounded.

import type { LineEntry, LinesResult, OutputRead, SearchMatch, SearchResult } from '../../protocol/sessionTypes.js';
import { toPlainText } from '../output/textView.js';
import type { ReadOptions } from '../output/readView.js';
import { compileUserPattern } from '../security/userPattern.js';

/** Bytes one line-view request scans: a few thousand lines of ordinary output; the caller pages on. */
const LINES_SCAN_BYTES = 4 * 1024 * 1024;
/** Bytes read per step of a search. */
const SEARCH_CHUNK_BYTES = 1024 * 1024;
/** A search scans at most this much (the default journal cap is 64 MiB per stream, plus the ring). */
const MAX_SEARCH_SCAN_BYTES = 256 * 1024 * 1024;
/** A line longer than this is cut for matching and excerpts (a progress bar redrawn without newline for hours). */
const MAX_LINE_BYTES = 64 * 1024;
/** Characters of a matching line returned as its excerpt. */
const EXCERPT_CHARS = 400;

/** Reads raw bytes of a session stream (live or archived) by cursor. */
export type RawReader = (since: number, maxBytes: number) => { data: Buffer; offset: number; nextOffset: number; gap: number; firstAvailableOffset: number };

/** A RawReader over the engine's readOutput (base64 raw reads work for live and archived sessions alike). */
export function rawReaderOf(read: (options: ReadOptions) => OutputRead, stream: ReadOptions['stream']): RawReader {
  return (since, maxBytes) => {
    const out = read({ since, format: 'raw', encoding: 'base64', maxBytes, stream });
    const data = Buffer.from(out.data, 'base64');
    return { data, offset: out.offset, nextOffset: out.nextOffset, gap: out.gap, firstAvailableOffset: out.firstAvailableOffset };
  };
}

function compile(source: string | undefined, ignoreCase: boolean): RegExp | null {
  if (source === undefined) return null;
  return compileUserPattern(source, ignoreCase ? 'i' : '');
}

/** Splits complete lines out of `data` (a trailing partial line only when `final`). */
function splitLines(data: Buffer, base: number, final: boolean): { lines: { offset: number; raw: Buffer }[]; consumed: number } {
  const lines: { offset: number; raw: Buffer }[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push({ offset: base + start, raw: data.subarray(start, Math.min(nl, start + MAX_LINE_BYTES)) });
    start = nl + 1;
  }
  if (start < data.length && (final || data.length - start >= MAX_LINE_BYTES)) {
    lines.push({ offset: base + start, raw: data.subarray(start, Math.min(data.length, start + MAX_LINE_BYTES)) });
    start = data.length;
  }
  return { lines, consumed: start };
}

export function lineView(
  reader: RawReader,
  options: { since: number; include?: string; exclude?: string; ignoreCase: boolean; limit: number; ended: boolean },
): LinesResult {
  const include = compile(options.include, options.ignoreCase);
  const exclude = compile(options.exclude, options.ignoreCase);
  const read = reader(options.since, LINES_SCAN_BYTES);
  const atEnd = read.data.length < LINES_SCAN_BYTES;
  const { lines, consumed } = splitLines(read.data, read.offset, options.ended && atEnd);
  const out: LineEntry[] = [];
  let next = read.offset;
  let scanned = 0;
  for (const line of lines) {
    if (out.length >= options.limit) break;
    scanned++;
    next = line.offset + line.raw.length + 1;
    const text = toPlainText(line.raw.toString('utf8')).replace(/\r$/, '');
    if (include !== null && !include.test(text)) continue;
    if (exclude?.test(text) === true) continue;
    out.push({ offset: line.offset, text });
  }
  if (scanned === lines.length) next = read.offset + consumed;
  return { lines: out, offset: read.offset, nextOffset: next, gap: read.gap, scanned };
}

// ANSI sequences as textView strips them, anchored (sticky) to map a text-view index back to a raw index.
const ESCAPE_AT =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|\x1b[0-~]|\x1b[ -/]+[0-~]|[\x00-\x07\x0b\x0c\x0e-\x1f\x7f\r]/y;

/** The line without escapes and CRs, and for each of its characters the index in the raw line. */
function plainWithMap(raw: string): { text: string; map: number[] } {
  let text = '';
  const map: number[] = [];
  let i = 0;
  while (i < raw.length) {
    ESCAPE_AT.lastIndex = i;
    const m = ESCAPE_AT.exec(raw);
    if (m !== null && m[0].length > 0) {
      i += m[0].length;
      continue;
    }
    text += raw[i];
    map.push(i);
    i++;
  }
  map.push(raw.length);
  return { text, map };
}

export function searchOutput(
  reader: RawReader,
  options: { pattern: string; ignoreCase: boolean; since?: number; limit: number; end: number },
): SearchResult {
  const regex = compile(options.pattern, options.ignoreCase);
  if (regex === null) throw new Error('unreachable: a pattern is required');
  const global = new RegExp(regex.source, regex.flags + 'g');
  const matches: SearchMatch[] = [];
  let at = options.since ?? 0;
  let first: number | null = null;
  let gap = 0;
  let scanned = 0;
  let truncated = false;
  let carry = Buffer.alloc(0);
  let carryOffset = at;
  while (at < options.end) {
    if (scanned >= MAX_SEARCH_SCAN_BYTES) {
      truncated = true;
      break;
    }
    const read = reader(at, SEARCH_CHUNK_BYTES);
    if (first === null) {
      first = read.offset;
      gap = read.gap;
      carryOffset = read.offset;
    }
    if (read.data.length === 0) break;
    scanned += read.data.length;
    const data = carry.length === 0 ? read.data : Buffer.concat([carry, read.data]);
    const final = read.nextOffset >= options.end;
    const { lines, consumed } = splitLines(data, carryOffset, final);
    for (const line of lines) {
      const raw = line.raw.toString('utf8');
      const { text, map } = plainWithMap(raw);
      global.lastIndex = 0;
      for (let m = global.exec(text); m !== null; m = global.exec(text)) {
        if (m[0].length === 0) global.lastIndex++;
        const rawIndex = map[m.index] ?? raw.length;
        matches.push({
          offset: line.offset + Buffer.byteLength(raw.slice(0, rawIndex)),
          lineOffset: line.offset,
          match: m[0].slice(0, EXCERPT_CHARS),
          line: excerpt(text, m.index),
        });
        if (matches.length >= options.limit) {
          truncated = true;
          return { matches, offset: first, nextOffset: line.offset + line.raw.length + 1, gap, scannedBytes: scanned, truncated };
        }
      }
    }
    carry = Buffer.from(data.subarray(consumed));
    carryOffset += consumed;
    at = read.nextOffset;
  }
  return { matches, offset: first ?? at, nextOffset: at, gap, scannedBytes: scanned, truncated };
}

function excerpt(text: string, index: number): string {
  if (text.length <= EXCERPT_CHARS) return text;
  const start = Math.max(0, Math.min(index - EXCERPT_CHARS / 4, text.length - EXCERPT_CHARS));
  return text.slice(start, start + EXCERPT_CHARS);
}
