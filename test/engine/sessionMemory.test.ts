// What a session costs in memory (issue 18): an ended session kept in memory holds a small record, not its output
// ring or screen, and still answers every read from its journal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from '../helpers/engineHarness.js';

test('an ended session lets go of its output ring and screen, and its output and final screen stay readable', { timeout: 60_000 }, async () => {
  const engine = await startEngine();
  try {
    // ~300 KB of numbered lines, then a last line on the final screen.
    const { session } = await engine.manager.create({ command: ['/bin/sh', '-c', 'seq 1 50000; echo LAST-LINE'], cols: 80, rows: 24 });
    const exit = await session.whenTerminated();
    assert.equal(exit.code, 0);
    assert.equal(session.output.memoryBytes, 0, 'the ring let go of the output');
    assert.equal(session.screenTracker, null, 'the screen is gone');
    assert.equal(engine.manager.find(session.id), session, 'still kept in memory as an ended session');

    let text = '';
    for (let since = 0; ; ) {
      const read = session.readOutput({ since, format: 'raw', encoding: 'utf8', maxBytes: 64 * 1024, stream: 'combined' });
      assert.equal(read.gap, 0);
      if (read.data.length === 0) break;
      text += read.data;
      since = read.nextOffset;
    }
    const expected = Array.from({ length: 50000 }, (_, i) => `${i + 1}\r\n`).join('') + 'LAST-LINE\r\n';
    assert.equal(text, expected, 'every byte, read back from the journal');
    const screen = await session.screenSnapshot();
    assert.ok(screen.lines.includes('LAST-LINE'), screen.lines.join('\n'));
    assert.ok(screen.lines.includes('50000'));
  } finally {
    await engine.close();
  }
});
