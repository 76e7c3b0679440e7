// OutputJournal: exact offsets across segments, the byte cap with exact gaps, reads of unflushed bytes, restart recovery.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MAX_PENDING_BYTES, OutputJournal, SEGMENTS_KEPT } from '../../../src/engine/output/OutputJournal.js';

/** Deterministic bytes: byte at absolute offset o is (o * 31 + 7) mod 251, so any slice can be checked by offset. */
function bytesAt(offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = ((offset + i) * 31 + 7) % 251;
  return buf;
}

function diskBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

describe('OutputJournal', () => {
  let root: string;
  let dir: string;
  const open: OutputJournal[] = [];

  function openJournal(capBytes: number): OutputJournal {
    const journal = OutputJournal.open(dir, { capBytes });
    open.push(journal);
    return journal;
  }

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-journal-'));
    dir = path.join(root, 'session');
  });

  afterEach(async () => {
    for (const journal of open.splice(0)) await journal.close();
    await OutputJournal.remove(root);
  });

  test('a created journal makes its directory only when the first bytes are written', async () => {
    const silent = OutputJournal.create(path.join(dir, 'silent'), { capBytes: 1024 });
    await silent.flush();
    await silent.close();
    assert.equal(fs.existsSync(path.join(dir, 'silent')), false);

    const speaking = OutputJournal.create(dir, { capBytes: 1024 });
    open.push(speaking);
    assert.equal(fs.existsSync(dir), false);
    speaking.append(bytesAt(0, 300));
    await speaking.flush();
    assert.equal(diskBytes(dir), 300);
    assert.deepEqual(speaking.read(0, 1000).data, bytesAt(0, 300));
  });

  test('a fresh journal starts at offset 0 with nothing to read', () => {
    const journal = openJournal(1000);
    assert.equal(journal.endOffset, 0);
    assert.equal(journal.firstAvailableOffset, 0);
    assert.deepEqual(journal.read(0, 100), { data: Buffer.alloc(0), offset: 0, gap: 0 });
  });

  test('offsets stay exact across segment rollover, and reads spanning segments are byte-exact', async () => {
    const journal = openJournal(4000); // 1000-byte segments
    let offset = 0;
    for (const size of [1, 999, 1, 1500, 300, 199]) {
      journal.append(bytesAt(offset, size));
      offset += size;
    }
    await journal.flush();
    assert.equal(journal.endOffset, 3000);
    assert.equal(journal.firstAvailableOffset, 0);
    const names = fs.readdirSync(dir).sort();
    assert.deepEqual(names, ['0000000000000000.seg', '0000000000001000.seg', '0000000000002000.seg']);
    for (const [from, len] of [[0, 3000], [995, 10], [1999, 2], [2500, 1000]] as const) {
      const got = journal.read(from, len);
      assert.equal(got.offset, from);
      assert.equal(got.gap, 0);
      assert.deepEqual(got.data, bytesAt(from, Math.min(len, 3000 - from)));
    }
  });

  test('the cap is respected on disk and a read below firstAvailableOffset reports the exact gap', async () => {
    const cap = 4000;
    const journal = openJournal(cap);
    let offset = 0;
    while (offset < 10_500) {
      journal.append(bytesAt(offset, 700));
      offset += 700;
      await journal.flush();
      assert.ok(diskBytes(dir) <= cap, `disk ${diskBytes(dir)} > cap at ${offset}`);
    }
    assert.equal(journal.endOffset, 10_500);
    // Segments of cap/SEGMENTS_KEPT bytes; the newest (partly filled) plus up to SEGMENTS_KEPT-1 full ones remain.
    assert.equal(journal.firstAvailableOffset, 7000);
    assert.ok(journal.endOffset - journal.firstAvailableOffset >= cap * (SEGMENTS_KEPT - 1) / SEGMENTS_KEPT);
    const got = journal.read(100, 50);
    assert.deepEqual(got, { data: bytesAt(7000, 50), offset: 7000, gap: 6900 });
    assert.deepEqual(journal.read(7000, 20_000).data, bytesAt(7000, 3500));
  });

  test('bytes appended but not yet flushed are readable, also mid-write', async () => {
    const journal = openJournal(1_000_000);
    journal.append(bytesAt(0, 100));
    journal.append(bytesAt(100, 50));
    assert.deepEqual(journal.read(0, 1000).data, bytesAt(0, 150));
    assert.deepEqual(journal.read(120, 10).data, bytesAt(120, 10));
    // Let the first batch start its asynchronous write, then append more and read across all three places.
    await new Promise((resolve) => setImmediate(resolve));
    journal.append(bytesAt(150, 30));
    assert.deepEqual(journal.read(0, 1000).data, bytesAt(0, 180));
    await journal.flush();
    journal.append(bytesAt(180, 20));
    assert.deepEqual(journal.read(90, 1000).data, bytesAt(90, 110));
    await journal.flush();
    assert.equal(diskBytes(dir), 200);
  });

  test('a read past the end returns nothing at endOffset', async () => {
    const journal = openJournal(1000);
    journal.append(bytesAt(0, 10));
    assert.deepEqual(journal.read(50, 10), { data: Buffer.alloc(0), offset: 10, gap: 0 });
  });

  test('one append larger than the cap keeps exactly its newest cap bytes', async () => {
    const journal = openJournal(1000);
    journal.append(bytesAt(0, 300));
    journal.append(bytesAt(300, 5000));
    await journal.flush();
    assert.equal(journal.endOffset, 5300);
    assert.ok(diskBytes(dir) <= 1000);
    const got = journal.read(0, 10_000);
    assert.equal(got.gap, got.offset);
    assert.ok(got.offset >= 4300, `offset ${got.offset}`);
    assert.deepEqual(got.data, bytesAt(got.offset, 5300 - got.offset));
  });

  test('reopening after close recovers endOffset, firstAvailableOffset and the bytes exactly', async () => {
    const cap = 10_000;
    let journal = openJournal(cap);
    const random = crypto.randomBytes(23_456);
    for (let i = 0; i < random.length; i += 1000) journal.append(random.subarray(i, i + 1000));
    await journal.close();
    open.splice(0);
    const firstBefore = journal.firstAvailableOffset;

    journal = openJournal(cap);
    assert.equal(journal.endOffset, random.length);
    assert.equal(journal.firstAvailableOffset, firstBefore);
    assert.deepEqual(journal.read(firstBefore, cap).data, random.subarray(firstBefore));

    // Appending after the restart continues the same offsets.
    journal.append(Buffer.from('tail'));
    await journal.flush();
    assert.equal(journal.endOffset, random.length + 4);
    assert.equal(journal.read(random.length, 10).data.toString(), 'tail');
  });

  test('reopening keeps the segments on both sides of a hole (output the disk refused) and reads report it as a gap', async () => {
    const journal = openJournal(4000);
    journal.append(bytesAt(0, 3500));
    await journal.close();
    open.splice(0);
    fs.rmSync(path.join(dir, '0000000000001000.seg'));

    const reopened = openJournal(4000);
    assert.equal(reopened.firstAvailableOffset, 0);
    assert.equal(reopened.endOffset, 3500);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['0000000000000000.seg', '0000000000002000.seg', '0000000000003000.seg']);
    assert.deepEqual(reopened.read(0, 10_000), { data: bytesAt(0, 1000), offset: 0, gap: 0 });
    assert.deepEqual(reopened.read(1000, 10_000), { data: bytesAt(2000, 1500), offset: 2000, gap: 1000 });
  });

  test('reopening deletes a segment that overlaps a newer one', async () => {
    const journal = openJournal(4000);
    journal.append(bytesAt(0, 2500));
    await journal.close();
    open.splice(0);
    fs.writeFileSync(path.join(dir, '0000000000001500.seg'), bytesAt(1500, 200));

    const reopened = openJournal(4000);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['0000000000000000.seg', '0000000000001500.seg', '0000000000002000.seg']);
    assert.deepEqual(reopened.read(0, 10_000), { data: bytesAt(0, 1000), offset: 0, gap: 0 });
    assert.deepEqual(reopened.read(1000, 10_000), { data: bytesAt(1500, 200), offset: 1500, gap: 500 });
  });

  test('50 MB appended in 64 KB chunks stays under the cap on disk and the last bytes read back exactly', async () => {
    const cap = 8 * 1024 * 1024;
    const chunkSize = 64 * 1024;
    const total = 50 * 1024 * 1024;
    const journal = openJournal(cap);
    const chunk = crypto.randomBytes(chunkSize);
    let maxDisk = 0;
    for (let offset = 0; offset < total; offset += chunkSize) {
      // A fresh buffer per append, as a PTY hands out: the journal keeps references to pending chunks.
      const data = Buffer.from(chunk);
      data.writeUInt32BE(offset, 0);
      journal.append(data);
      if (offset % (4 * 1024 * 1024) === 0) {
        maxDisk = Math.max(maxDisk, diskBytes(dir));
        // Yield now and then like a real event loop, so both the async and the over-bound sync path run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await journal.flush();
    maxDisk = Math.max(maxDisk, diskBytes(dir));
    assert.ok(maxDisk <= cap, `disk peaked at ${maxDisk}`);
    assert.equal(journal.endOffset, total);
    assert.ok(journal.firstAvailableOffset >= total - cap);
    assert.ok(MAX_PENDING_BYTES < cap);

    const lastOffset = total - chunkSize;
    const expected = Buffer.from(chunk);
    expected.writeUInt32BE(lastOffset, 0);
    assert.deepEqual(journal.read(lastOffset, chunkSize).data, expected);
    const tail = journal.read(journal.firstAvailableOffset, cap);
    assert.equal(tail.offset + tail.data.length, total);
    for (let at = tail.offset; at < total; at += chunkSize) {
      assert.equal(tail.data.readUInt32BE(at - tail.offset), at, `chunk header at ${at}`);
    }
  });

  test('close releases every file descriptor, also after many rollovers and evictions', async () => {
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const journal = openJournal(4096);
    for (let offset = 0; offset < 200_000; offset += 333) {
      journal.append(bytesAt(offset, 333));
      if (offset % 3330 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await journal.close();
    assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore);
  });

  test('a refused write is an explicit gap: earlier bytes stay readable, flush and close never reject, the disk is tried again', { skip: !fs.existsSync('/dev/full') }, async () => {
    const journal = OutputJournal.open(dir, { capBytes: 4000, retryAfterFailureMs: 50 }); // 1000-byte segments
    open.push(journal);
    journal.append(bytesAt(0, 1000));
    await journal.flush();
    // The next segment's file is /dev/full: every write to it fails with ENOSPC.
    fs.symlinkSync('/dev/full', path.join(dir, '0000000000001000.seg'));
    journal.append(bytesAt(1000, 500));
    await journal.flush(); // resolves: the refused bytes are accounted for as a gap, not left pending
    assert.equal(journal.failure?.message.includes('ENOSPC'), true);
    journal.append(bytesAt(1500, 10));
    assert.equal(journal.endOffset, 1510);
    assert.deepEqual(
      journal.gaps.map(({ start, end, code }) => ({ start, end, code })),
      [{ start: 1000, end: null, code: 'ENOSPC' }],
    );
    // What reached the disk before the failure is still there; a read stops at the gap, the next one reports it.
    assert.deepEqual(journal.read(0, 2000), { data: bytesAt(0, 1000), offset: 0, gap: 0 });
    assert.deepEqual(journal.read(1000, 100), { data: Buffer.alloc(0), offset: 1510, gap: 510 });

    // Space again (the file is an ordinary one from now on): after the retry delay the next append resumes.
    await new Promise((resolve) => setTimeout(resolve, 60));
    journal.append(bytesAt(1510, 90));
    await journal.flush();
    assert.equal(journal.failure, null);
    assert.deepEqual(
      journal.gaps.map(({ start, end }) => ({ start, end })),
      [{ start: 1000, end: 1510 }],
    );
    assert.deepEqual(journal.read(1200, 1000), { data: bytesAt(1510, 90), offset: 1510, gap: 310 });
    assert.deepEqual(journal.read(900, 1000), { data: bytesAt(900, 100), offset: 900, gap: 0 });
    await journal.close();
    open.splice(open.indexOf(journal), 1);
  });

  test('append after close is refused', async () => {
    const journal = openJournal(1000);
    await journal.close();
    assert.throws(() => journal.append(Buffer.from('x')), /after close/);
  });
});
