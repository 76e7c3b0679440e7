// A pipe session flooding stdout and stderr while the daemon is killed with kill -9 (issue 14): after the restart
// its combined stream holds every stdout and stderr byte exactly once (byte counts add up, and the combined lines of
// each stream are that stream, in order). The holder keeps stdout and stderr apart; the combined journal is written
// by the daemon, so a crash between its writes must neither lose nor repeat a byte.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';

const LINES = 40_000;
/**
 * Numbered lines on both streams, in bursts, so the flood runs for seconds (across the crash). The streams use
 * disjoint bytes (stdout: digits as a-j and newlines; stderr: digits as A-J and '|'), so every byte of the combined
 * stream tells which stream it came from, however reads cut the writes.
 */
const FLOOD = `
const enc = (i, base) => String(i).padStart(9, '0').replace(/[0-9]/g, (d) => String.fromCharCode(base + Number(d)));
let i = 0;
function burst() {
  let out = '', err = '';
  for (let n = 0; n < 400 && i < ${LINES}; n++, i++) { out += 'o' + enc(i, 97) + '\\n'; err += 'E' + enc(i, 65) + '|'; }
  process.stdout.write(out);
  process.stderr.write(err);
  if (i < ${LINES}) setTimeout(burst, 20); else setTimeout(() => {}, 1e9);
}
burst();
`;

async function readAll(daemon: DaemonHandle, id: string, stream: 'combined' | 'stdout' | 'stderr'): Promise<string> {
  let text = '';
  let offset = 0;
  for (;;) {
    const out = await daemon.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?format=raw&encoding=utf8&stream=${stream}&since=${offset}&limit=1048576`);
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.equal(out.body.offset, offset, `a gap in ${stream} at ${offset}`);
    if (out.body.nextOffset === offset) return text;
    text += out.body.data;
    offset = out.body.nextOffset;
  }
}

/** The flood's text of one stream: 'o' + a-j digits + newline (stdout), 'E' + A-J digits + '|' (stderr). */
function expected(stream: 'stdout' | 'stderr'): string {
  const base = stream === 'stdout' ? 97 : 65;
  let text = '';
  for (let i = 0; i < LINES; i++) {
    const digits = String(i).padStart(9, '0').replace(/[0-9]/g, (d) => String.fromCharCode(base + Number(d)));
    text += stream === 'stdout' ? `o${digits}\n` : `E${digits}|`;
  }
  return text;
}

/** The first offset where two texts differ, for a readable failure. */
function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function assertSame(actual: string, wanted: string, what: string): void {
  if (actual === wanted) return;
  const at = firstDifference(actual, wanted);
  assert.fail(`${what}: ${actual.length} bytes, expected ${wanted.length}; first difference at ${at}: ${JSON.stringify(actual.slice(at, at + 40))}`);
}

test('kill -9 during a flood on stdout and stderr: the combined stream has every byte of both exactly once', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const created = await first.request<SessionInfo>('POST', '/api/v1/sessions', { kind: 'pipe', command: [process.execPath, '-e', FLOOD], cwd: first.root });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    // Mid-flood: some output is in, most is still to come.
    for (let waited = 0; ; waited += 50) {
      const info = await first.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
      if (info.body.output.stdoutBytes > 100_000) break;
      assert.ok(waited < 60_000, 'the flood started');
      await sleep(50);
    }
    await first.crash();
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const total = LINES * 11; // 1 + 9 + 1 bytes per line
    for (let waited = 0; ; waited += 100) {
      const info = await second.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
      if (info.body.output.stdoutBytes >= total && info.body.output.stderrBytes >= total) break;
      assert.ok(waited < 60_000, `the flood finished: ${JSON.stringify(info.body.output)}`);
      await sleep(100);
    }
    const stdout = await readAll(second, id, 'stdout');
    const stderr = await readAll(second, id, 'stderr');
    const combined = await readAll(second, id, 'combined');
    assert.equal(stdout.length, total);
    assert.equal(stderr.length, total);
    assert.equal(combined.length, stdout.length + stderr.length, 'combined = stdout + stderr, byte for byte');
    assertSame(stdout, expected('stdout'), 'stdout');
    assertSame(stderr, expected('stderr'), 'stderr');
    // Chunks of the two streams interleave anywhere in the combined stream; each stream's bytes keep their order.
    assertSame(combined.replace(/[^a-jo\n]/g, ''), stdout, 'stdout within combined');
    assertSame(combined.replace(/[^A-JE|]/g, ''), stderr, 'stderr within combined');
    const ended = await second.request<SessionInfo>('DELETE', `/api/v1/sessions/${id}`);
    assert.equal(ended.body.state, 'terminated');
  } finally {
    await stopLeavingNothing(first, second);
  }
});
