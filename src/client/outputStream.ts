// A session's output as an async iterator by cursor: pages from `since` until caught up, and with `follow` on
// until the session has ended and its last byte was read. Reads never consume; breaking out of the loop stops it.

import { setTimeout as sleep } from 'node:timers/promises';
import type { OutputStreamName } from '../protocol/apiReplies.js';
import type { OutputRead, SessionInfo } from '../protocol/sessionTypes.js';

/** How often a follower asks for new bytes: fast enough to feel live, slow enough to cost the daemon nothing. */
const FOLLOW_POLL_MS = 200;
/** Bytes per read: the daemon's default page (1 MiB), so a long backlog arrives in few round trips. */
const OUTPUT_PAGE_BYTES = 1024 * 1024;

export interface OutputOptions {
  /** Byte offset to start at (default 0: everything still kept). */
  since?: number;
  /** `raw` (default): the bytes as written; `text`: ANSI stripped and carriage returns resolved. */
  format?: 'raw' | 'text';
  stream?: OutputStreamName;
  /** Keep reading until the session ends (default true); false stops once caught up. */
  follow?: boolean;
  pageBytes?: number;
  signal?: AbortSignal;
}

/** One page of output; `data` is bytes for the raw view, text for the text view. */
export interface OutputChunk<D extends Uint8Array | string> {
  data: D;
  offset: number;
  /** Where the next page starts (the cursor to resume from). */
  nextOffset: number;
  firstAvailableOffset: number;
  /** Bytes evicted before `offset` that no reader can have any more; 0 when none. */
  gap: number;
}

export interface OutputSource {
  readPage(since: number, options: { format: 'raw' | 'text'; stream?: OutputStreamName; limit: number; signal?: AbortSignal }): Promise<OutputRead>;
  info(signal?: AbortSignal): Promise<SessionInfo>;
}

/**
 * Yields every page that holds bytes or reports a gap. The first page is always yielded, even empty: it says where
 * reading starts and what is still available.
 */
export async function* outputStream(source: OutputSource, options: OutputOptions): AsyncGenerator<OutputChunk<Uint8Array | string>> {
  const format = options.format ?? 'raw';
  const limit = options.pageBytes ?? OUTPUT_PAGE_BYTES;
  let cursor = options.since ?? 0;
  let first = true;
  async function* drain(): AsyncGenerator<OutputChunk<Uint8Array | string>> {
    for (;;) {
      const read = await source.readPage(cursor, { format, stream: options.stream, limit, signal: options.signal });
      if (first || read.nextOffset > read.offset || read.gap > 0) {
        yield {
          data: read.encoding === 'base64' ? Buffer.from(read.data, 'base64') : read.data,
          offset: read.offset,
          nextOffset: read.nextOffset,
          firstAvailableOffset: read.firstAvailableOffset,
          gap: read.gap,
        };
      }
      first = false;
      const progressed = read.nextOffset > cursor;
      cursor = read.nextOffset;
      // A read that moved the cursor may be followed by more; one that did not means caught up.
      if (!progressed) return;
    }
  }
  yield* drain();
  if (options.follow === false) return;
  for (;;) {
    // No byte is lost at exit (PRODUCT §1.2): once terminated, one last drain has everything.
    const ended = (await source.info(options.signal)).state === 'terminated';
    yield* drain();
    if (ended) return;
    await sleep(FOLLOW_POLL_MS, undefined, { signal: options.signal });
  }
}
