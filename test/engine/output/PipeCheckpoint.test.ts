// A pipe session's combined, stdout and stderr journals on real files, cut at every kind of kill point (issue 14):
// each journal's file ends anywhere at or past the last checkpoint, as a kill -9 between (or inside) their
// independent batch writes leaves them. The recovery (planPipeResume, OutputJournal.truncate, ResendFilter) with the
// holder resending from where it says must give three streams holding every byte exactly once. The same crash
// recovered from the journals' ends alone (what a reattach did before the checkpoint) loses or repeats bytes.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { OutputJournal } from '../../../src/engine/output/OutputJournal.js';
import { PipeCheckpoint, ResendFilter, planPipeResume, type PipeOffsets } from '../../../src/engine/output/PipeCheckpoint.js';

type Channel = 'stdout' | 'stderr';
interface Chunk {
  channel: Channel;
  data: Buffer;
}

/** Large enough that every journal is one segment file, so a kill point is one truncate of that file. */
const CAP = 4 * 1024 * 1024;

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-pipeckpt-'));
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** Deterministic chunks; stdout uses a-z and stderr A-Z, so every combined byte tells its channel. */
function makeChunks(count: number): Chunk[] {
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const chunks: Chunk[] = [];
  for (let i = 0; i < count; i++) {
    const channel: Channel = next(2) === 0 ? 'stdout' : 'stderr';
    const base = channel === 'stdout' ? 97 : 65;
    const data = Buffer.alloc(1 + next(40));
    for (let j = 0; j < data.length; j++) data[j] = base + ((i + j) % 26);
    chunks.push({ channel, data });
  }
  return chunks;
}

function channelText(chunks: Chunk[], channel: Channel): Buffer {
  return Buffer.concat(chunks.filter((c) => c.channel === channel).map((c) => c.data));
}

const CHANNELS = ['combined', 'stdout', 'stderr'] as const;

/** The first daemon: journals every chunk (a checkpoint after `ackAfter` chunks, as the ack loop writes it). */
async function firstDaemon(dir: string, chunks: Chunk[], ackAfter: number): Promise<PipeOffsets> {
  const journals = Object.fromEntries(CHANNELS.map((name) => [name, OutputJournal.create(path.join(dir, name), { capBytes: CAP })])) as Record<
    (typeof CHANNELS)[number],
    OutputJournal
  >;
  const checkpoint = new PipeCheckpoint(path.join(dir, 'pipe-checkpoint'));
  let mark: PipeOffsets | null = null;
  for (const [i, chunk] of chunks.entries()) {
    if (i === ackAfter) {
      mark = { combined: journals.combined.endOffset, stdout: journals.stdout.endOffset, stderr: journals.stderr.endOffset };
      await Promise.all(CHANNELS.map((name) => journals[name].flush()));
      checkpoint.write(mark);
    }
    journals.combined.append(chunk.data);
    journals[chunk.channel].append(chunk.data);
  }
  await Promise.all(CHANNELS.map((name) => journals[name].close()));
  checkpoint.close();
  assert.ok(mark !== null);
  return mark;
}

/** What kill -9 left: each journal's one segment file cut to `ends` (every byte up to the checkpoint is there). */
function crashAt(dir: string, ends: PipeOffsets): void {
  for (const name of CHANNELS) {
    const files = fs.readdirSync(path.join(dir, name));
    assert.equal(files.length, 1, `${name} is one segment`);
    fs.truncateSync(path.join(dir, name, files[0] ?? ''), ends[name]);
  }
}

/**
 * The next daemon: reopens the journals, plans the resume (from the checkpoint, or from the ends alone when
 * `useCheckpoint` is false), and takes the holder's resend of each channel from where the plan asks, stderr's
 * chunks first (a different interleaving from the original, as a resend may well arrive). Returns the three streams.
 */
async function recover(dir: string, chunks: Chunk[], useCheckpoint: boolean): Promise<Record<(typeof CHANNELS)[number], Buffer>> {
  const journals = Object.fromEntries(CHANNELS.map((name) => [name, OutputJournal.open(path.join(dir, name), { capBytes: CAP })])) as Record<
    (typeof CHANNELS)[number],
    OutputJournal
  >;
  const ends = { combined: journals.combined.endOffset, stdout: journals.stdout.endOffset, stderr: journals.stderr.endOffset };
  const plan = planPipeResume(ends, useCheckpoint ? PipeCheckpoint.read(path.join(dir, 'pipe-checkpoint')) : null);
  if (plan.cutCombinedTo !== null) journals.combined.truncate(plan.cutCombinedTo);
  const filter = new ResendFilter(plan.skip);
  for (const channel of ['stderr', 'stdout'] as const) {
    // The holder keeps each channel's chunks by offset and resends from the plan's offset on.
    let offset = 0;
    for (const chunk of chunks.filter((c) => c.channel === channel)) {
      const from = Math.max(0, plan.resume[channel] - offset);
      offset += chunk.data.length;
      if (from >= chunk.data.length) continue;
      const data = chunk.data.subarray(from);
      journals.combined.append(filter.take('combined', data));
      journals[channel].append(filter.take(channel, data));
    }
  }
  const result = {} as Record<(typeof CHANNELS)[number], Buffer>;
  for (const name of CHANNELS) {
    await journals[name].flush();
    const read = journals[name].read(0, CAP);
    assert.equal(read.gap, 0);
    result[name] = read.data;
    await journals[name].close();
  }
  return result;
}

/** Every stream exact: stdout and stderr byte for byte, combined each of them once and in order. */
function exact(streams: Record<(typeof CHANNELS)[number], Buffer>, chunks: Chunk[]): string | null {
  const stdout = channelText(chunks, 'stdout');
  const stderr = channelText(chunks, 'stderr');
  if (!streams.stdout.equals(stdout)) return `stdout: ${streams.stdout.length} bytes, expected ${stdout.length}`;
  if (!streams.stderr.equals(stderr)) return `stderr: ${streams.stderr.length} bytes, expected ${stderr.length}`;
  const combined = streams.combined.toString('latin1');
  if (combined.length !== stdout.length + stderr.length) return `combined: ${combined.length} bytes, expected ${stdout.length + stderr.length}`;
  if (combined.replace(/[^a-z]/g, '') !== stdout.toString('latin1')) return 'stdout within combined differs';
  if (combined.replace(/[^A-Z]/g, '') !== stderr.toString('latin1')) return 'stderr within combined differs';
  return null;
}

/** Kill points per journal: at the checkpoint, a third and two thirds past it, and the full end. */
function pointsPast(from: number, to: number): number[] {
  return [...new Set([from, from + Math.floor((to - from) / 3), from + Math.floor(((to - from) * 2) / 3), to])];
}

test('every combination of journal ends a kill -9 can leave recovers every byte of all three streams exactly once', async () => {
  const chunks = makeChunks(200);
  const full = { combined: Buffer.concat(chunks.map((c) => c.data)).length, stdout: channelText(chunks, 'stdout').length, stderr: channelText(chunks, 'stderr').length };
  const source = path.join(root, 'source');
  const mark = await firstDaemon(source, chunks, 80);
  let cases = 0;
  for (const combined of pointsPast(mark.combined, full.combined)) {
    for (const stdout of pointsPast(mark.stdout, full.stdout)) {
      for (const stderr of pointsPast(mark.stderr, full.stderr)) {
        const dir = path.join(root, `case-${cases++}`);
        fs.cpSync(source, dir, { recursive: true });
        crashAt(dir, { combined, stdout, stderr });
        const problem = exact(await recover(dir, chunks, true), chunks);
        assert.equal(problem, null, `kill point combined=${combined} stdout=${stdout} stderr=${stderr}`);
      }
    }
  }
  assert.equal(cases, 64);
});

test('a kill -9 with nothing acknowledged yet (no checkpoint file) resends everything and recovers exactly', async () => {
  const chunks = makeChunks(60);
  const source = path.join(root, 'source');
  await firstDaemon(source, chunks, 0);
  fs.rmSync(path.join(source, 'pipe-checkpoint'));
  crashAt(source, { combined: 100, stdout: channelText(chunks, 'stdout').length, stderr: 10 });
  assert.equal(exact(await recover(source, chunks, true), chunks), null);
});

test('the journals alone cannot tell: stdout ahead of combined loses bytes in combined without the checkpoint', async () => {
  // The crash the issue saw: stdout's journal wrote its batch, combined's had not yet.
  const chunks = makeChunks(200);
  const source = path.join(root, 'source');
  const mark = await firstDaemon(source, chunks, 80);
  const stdoutEnd = channelText(chunks, 'stdout').length;
  crashAt(source, { combined: mark.combined, stdout: stdoutEnd, stderr: mark.stderr });
  const copy = path.join(root, 'copy');
  fs.cpSync(source, copy, { recursive: true });
  assert.match(exact(await recover(source, chunks, false), chunks) ?? '', /^combined: \d+ bytes/);
  assert.equal(exact(await recover(copy, chunks, true), chunks), null);
});

test('a journal cut back by truncate continues in the same segment file, and reads stop at the cut', async () => {
  const dir = path.join(root, 'j');
  const journal = OutputJournal.create(dir, { capBytes: CAP });
  journal.append(Buffer.from('hello world'));
  await journal.close();
  const reopened = OutputJournal.open(dir, { capBytes: CAP });
  assert.throws(() => reopened.truncate(12), RangeError);
  reopened.truncate(5);
  assert.equal(reopened.endOffset, 5);
  assert.equal(reopened.read(0, 100).data.toString(), 'hello');
  reopened.append(Buffer.from(', there'));
  await reopened.close();
  assert.deepEqual(fs.readdirSync(dir), ['0000000000000000.seg']);
  const again = OutputJournal.open(dir, { capBytes: CAP });
  assert.equal(again.read(0, 100).data.toString(), 'hello, there');
  await again.close();
});
