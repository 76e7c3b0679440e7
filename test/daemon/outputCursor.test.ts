// Proves PRODUCT §1.2 cursor reads: a flood past small ring and journal caps reports an explicit gap equal to the
// bytes lost, reads never consume (several readers see the same bytes), the text view strips ANSI, and raw reads
// carry binary and invalid UTF-8 exactly. Must never read more than the engine's per-read cap at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from '../helpers/engineHarness.js';
import type { Session } from '../../src/engine/Session.js';
import { fixture } from '../helpers/coreSupport.js';

/** Small caps so a modest flood overflows both: 64 KiB in memory, 256 KiB on disk. */
const RING_BYTES = 64 * 1024;
const JOURNAL_CAP_BYTES = 256 * 1024;
/** 2 MiB of 'x': eight times the disk cap. */
const FLOOD_BYTES = 2 * 1024 * 1024;
/** Reader chunk sizes that do not divide each other, so the two readers' reads never line up. */
const SMALL_READ = 4093;
const LARGE_READ = 65_521;

function readRaw(session: Session, since: number, maxBytes: number): { data: Buffer; offset: number; nextOffset: number; gap: number; firstAvailableOffset: number } {
  const read = session.readOutput({ since, format: 'raw', encoding: 'base64', maxBytes, stream: 'combined' });
  return { ...read, data: Buffer.from(read.data, 'base64') };
}

/** Reads from `since` to the current end in `chunk`-sized reads; answers the bytes and the total gap met. */
function readToEnd(session: Session, since: number, chunk: number): { data: Buffer; gap: number; start: number } {
  const parts: Buffer[] = [];
  let cursor = since;
  let gap = 0;
  let start = -1;
  for (;;) {
    const read = readRaw(session, cursor, chunk);
    gap += read.gap;
    if (start < 0) start = read.offset;
    if (read.data.length === 0) break;
    parts.push(read.data);
    cursor = read.nextOffset;
  }
  return { data: Buffer.concat(parts), gap, start };
}

test('a flood past the ring and journal caps reports a gap equal to exactly the bytes lost', async () => {
  const engine = await startEngine({ ringBytes: RING_BYTES, journalCapBytes: JOURNAL_CAP_BYTES });
  try {
    const { session } = await engine.manager.create({ kind: 'pipe', command: [process.execPath, fixture('flood.mjs'), String(FLOOD_BYTES)] });
    const exit = await session.whenTerminated();
    assert.equal(exit.code, 0);
    assert.equal(session.output.endOffset, FLOOD_BYTES);
    const { data, gap, start } = readToEnd(session, 0, LARGE_READ);
    assert.ok(gap > 0, 'a flood of 8x the disk cap must lose bytes');
    assert.equal(start, gap, 'the first read starts exactly `gap` bytes after the asked offset');
    assert.equal(gap + data.length, FLOOD_BYTES, 'gap + bytes kept must account for every byte written');
    assert.ok(data.length >= RING_BYTES, 'at least the ring is kept');
    assert.ok(data.every((byte) => byte === 0x78), 'kept bytes are the flood bytes, unchanged');
    // A read from inside the kept range has no gap.
    const inside = readRaw(session, start + 10, 100);
    assert.equal(inside.gap, 0);
    assert.equal(inside.offset, start + 10);
  } finally {
    await engine.close();
  }
});

test('reads never consume: two readers with different chunk sizes and a live subscriber see the same bytes', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pty', command: [process.execPath, fixture('write-then-exit.mjs'), String(300 * 1024)] });
    const live: Buffer[] = [];
    const sub = session.output.onData(({ data }) => live.push(Buffer.from(data)));
    const readers = [
      { chunk: SMALL_READ, cursor: 0, parts: [] as Buffer[], gap: 0 },
      { chunk: LARGE_READ, cursor: 0, parts: [] as Buffer[], gap: 0 },
    ];
    const poll = (): void => {
      for (const reader of readers) {
        const read = readRaw(session, reader.cursor, reader.chunk);
        reader.gap += read.gap;
        reader.parts.push(read.data);
        reader.cursor = read.nextOffset;
      }
    };
    const timer = setInterval(poll, 5);
    try {
      await session.whenTerminated();
    } finally {
      clearInterval(timer);
      sub.dispose();
    }
    // Catch up after the end.
    for (const reader of readers) {
      const rest = readToEnd(session, reader.cursor, reader.chunk);
      reader.parts.push(rest.data);
      reader.gap += rest.gap;
    }
    const whole = readToEnd(session, 0, 4 * 1024 * 1024);
    assert.equal(whole.gap, 0);
    assert.equal(whole.data.length, session.output.endOffset);
    for (const reader of readers) {
      assert.equal(reader.gap, 0);
      assert.ok(Buffer.concat(reader.parts).equals(whole.data), `reader with ${reader.chunk}-byte reads saw different bytes`);
    }
    assert.ok(Buffer.concat(live).equals(whole.data), 'the live subscriber saw different bytes');
    // And again from 0: nothing was consumed by any of this.
    assert.ok(readToEnd(session, 0, LARGE_READ).data.equals(whole.data));
  } finally {
    await engine.close();
  }
});

test('the text view strips ANSI escapes and resolves carriage returns; raw keeps them', async () => {
  const engine = await startEngine();
  try {
    const script = String.raw`printf '\033[31mred\033[0m \033[1mbold\033[0m\n\033]0;title\007progress 10%%\rprogress 99%%\n'`;
    const { session } = await engine.manager.create({ kind: 'pty', command: ['/bin/sh', '-c', script] });
    await session.whenTerminated();
    const text = session.readOutput({ since: 0, format: 'text', encoding: 'utf8', maxBytes: 1 << 20, stream: 'combined' });
    assert.equal(text.data, 'red bold\nprogress 99%\n');
    const raw = readRaw(session, 0, 1 << 20).data.toString('utf8');
    assert.ok(raw.includes('\u001b[31mred'), 'raw output keeps the escapes');
  } finally {
    await engine.close();
  }
});

test('raw base64 reads carry binary output and invalid UTF-8 byte for byte; utf8 reads replace bad bytes', async () => {
  const engine = await startEngine();
  try {
    const binary = (await engine.manager.create({ kind: 'pipe', command: [process.execPath, fixture('binary-output.mjs')] })).session;
    const invalid = (await engine.manager.create({ kind: 'pipe', command: [process.execPath, fixture('invalid-utf8.mjs')] })).session;
    await Promise.all([binary.whenTerminated(), invalid.whenTerminated()]);
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.ok(readRaw(binary, 0, 1024).data.equals(allBytes));
    const bad = readRaw(invalid, 0, 1024).data;
    assert.equal(bad.length, invalid.output.endOffset);
    assert.ok(bad.subarray(0, 4).equals(Buffer.from('ok:\u00ff', 'latin1')));
    const asText = invalid.readOutput({ since: 0, format: 'raw', encoding: 'utf8', maxBytes: 1024, stream: 'combined' });
    assert.ok(asText.data.startsWith('ok:\ufffd'), JSON.stringify(asText.data));
    assert.ok(asText.data.includes(':end'));
  } finally {
    await engine.close();
  }
});

/** A pipe's first write reaches the stream within milliseconds; this leaves room for a loaded machine. */
const WRITE_TIMEOUT_MS = 10_000;

async function waitUntil(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WRITE_TIMEOUT_MS;
  while (!done()) {
    assert.ok(performance.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function readText(session: Session, since: number, maxBytes = 1 << 20): { data: string; nextOffset: number } {
  return session.readOutput({ since, format: 'text', encoding: 'utf8', maxBytes, stream: 'combined' });
}

test('a follower of a live session never reads half a character: it gets a€b when the € is split across writes', async () => {
  const engine = await startEngine();
  try {
    // "a" and the first byte of "€" (e2 82 ac), then the rest once we send a line.
    const script = String.raw`printf 'a\342'; read -r _; printf '\202\254b'`;
    const { session } = await engine.manager.create({ kind: 'pipe', command: ['/bin/bash', '-c', script] });
    await waitUntil(() => session.output.endOffset === 2, 'the first write');
    const first = readText(session, 0);
    assert.deepEqual({ data: first.data, nextOffset: first.nextOffset }, { data: 'a', nextOffset: 1 });
    const held = readText(session, first.nextOffset);
    assert.deepEqual({ data: held.data, nextOffset: held.nextOffset }, { data: '', nextOffset: 1 }, 'the lone lead byte is held back');
    const rawUtf8 = session.readOutput({ since: 1, format: 'raw', encoding: 'utf8', maxBytes: 1024, stream: 'stdout' });
    assert.deepEqual({ data: rawUtf8.data, nextOffset: rawUtf8.nextOffset }, { data: '', nextOffset: 1 }, 'encoding=utf8 holds it back too');
    session.write('go\n');
    await session.whenTerminated();
    const rest = readText(session, held.nextOffset);
    assert.deepEqual({ data: rest.data, nextOffset: rest.nextOffset }, { data: '€b', nextOffset: 5 });
    assert.equal(first.data + held.data + rest.data, readText(session, 0).data);
  } finally {
    await engine.close();
  }
});

test('a utf8 read with a limit smaller than one character returns that whole character and moves on', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pipe', command: ['/bin/sh', '-c', `printf 'é€'`] });
    await session.whenTerminated();
    const utf8 = (since: number, maxBytes: number): { data: string; nextOffset: number } => {
      const read = session.readOutput({ since, format: 'raw', encoding: 'utf8', maxBytes, stream: 'combined' });
      return { data: read.data, nextOffset: read.nextOffset };
    };
    assert.deepEqual(utf8(0, 1), { data: 'é', nextOffset: 2 });
    assert.deepEqual(utf8(2, 1), { data: '€', nextOffset: 5 });
    assert.deepEqual(utf8(2, 2), { data: '€', nextOffset: 5 });
    assert.deepEqual(utf8(0, 3), { data: 'é', nextOffset: 2 }, 'a limit inside the second character stops before it');
    assert.deepEqual(utf8(5, 1), { data: '', nextOffset: 5 });
  } finally {
    await engine.close();
  }
});

test('once output has ended, an incomplete character at its very end is decoded as is', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pipe', command: ['/bin/sh', '-c', String.raw`printf 'a\342\202'`] });
    await session.whenTerminated();
    const read = readText(session, 0);
    assert.deepEqual({ data: read.data, nextOffset: read.nextOffset }, { data: 'a\ufffd', nextOffset: 3 });
  } finally {
    await engine.close();
  }
});
