// Proves that a pattern wait from an offset sees all kept output after it, however far past one read the match
// is, and that a match straddling the pieces the scan reads in is still found.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from '../helpers/engineHarness.js';
import { PATTERN_SCAN_PIECE_BYTES } from '../../src/engine/output/PatternScan.js';
import type { Session } from '../../src/engine/Session.js';

/** Well past the 4 MiB of one output read, and past the 1 MiB ring: the marker sits in the journal's range. */
const FILLER_BYTES = 6_000_000;
const MARKER = 'ZZMARKERZZ';
/** A live session's output is all in after a second on an idle machine; this leaves room for a loaded one. */
const OUTPUT_TIMEOUT_MS = 20_000;

/** Polls until the session's combined output holds at least `bytes` bytes. */
async function outputReaches(session: Session, bytes: number): Promise<void> {
  const deadline = performance.now() + OUTPUT_TIMEOUT_MS;
  while (session.output.endOffset < bytes) {
    assert.ok(performance.now() < deadline, `output stopped at ${session.output.endOffset} of ${bytes} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function fillerThenMarker(fillerBytes: number, then: string): string[] {
  return ['/bin/sh', '-c', `head -c ${fillerBytes} /dev/zero | tr '\\0' y; echo; echo ${MARKER}; ${then}`];
}

test('a pattern wait from offset 0 finds a match more than 4 MiB later in a live session', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pipe', command: fillerThenMarker(FILLER_BYTES, 'sleep 30') });
    await outputReaches(session, FILLER_BYTES + 1 + MARKER.length + 1);
    const result = await engine.manager.wait(session.id, { pattern: MARKER, since: 0, timeoutMs: 3000 });
    assert.equal(result.outcome, 'pattern');
    assert.equal(result.matched, true);
  } finally {
    await engine.close();
  }
});

test('a pattern wait from offset 0 finds a match more than 4 MiB later in a session that has ended', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ kind: 'pipe', command: fillerThenMarker(FILLER_BYTES, 'exit 0') });
    await session.whenTerminated();
    const result = await engine.manager.wait(session.id, { pattern: MARKER, since: 0, timeoutMs: 3000 });
    assert.equal(result.outcome, 'pattern');
    assert.equal(result.matched, true);
    const miss = await engine.manager.wait(session.id, { pattern: 'NOT-THERE', since: 0, timeoutMs: 3000 });
    assert.equal(miss.outcome, 'exit', 'with no match anywhere, an ended session answers exit once all is scanned');
    assert.equal(miss.matched, false);
  } finally {
    await engine.close();
  }
});

test('a pattern wait finds a match that straddles two scan pieces, whole-text regex semantics kept', async () => {
  const engine = await startEngine();
  try {
    // The marker starts 5 bytes before the end of the third piece and ends in the fourth.
    const filler = 3 * PATTERN_SCAN_PIECE_BYTES - 6;
    const { session } = await engine.manager.create({ kind: 'pipe', command: fillerThenMarker(filler, 'exit 0') });
    await session.whenTerminated();
    const straddling = await engine.manager.wait(session.id, { pattern: MARKER, since: 0, timeoutMs: 3000 });
    assert.equal(straddling.outcome, 'pattern');
    // Patterns are tested on the text as a whole (multiline flag), not line by line: a match may cross a newline.
    const acrossLines = await engine.manager.wait(session.id, { pattern: `y\\n${MARKER}$`, since: 0, timeoutMs: 3000 });
    assert.equal(acrossLines.outcome, 'pattern');
  } finally {
    await engine.close();
  }
});
