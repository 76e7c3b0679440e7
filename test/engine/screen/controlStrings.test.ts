// A DCS, SOS, PM or APC string ended by BEL (as an OSC may be) must not swallow what follows it: not on the
// screen (xterm.js ignores BEL inside those strings), not in the text view, not in search.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenTracker } from '../../../src/engine/screen/ScreenTracker.js';
import { toPlainText } from '../../../src/engine/output/textView.js';
import { EngineSessions } from '../../../src/engine/door/EngineSessions.js';
import { startEngine } from '../../helpers/engineHarness.js';

const OPENERS: Record<string, string> = {
  'DCS': '\x1bP',
  'SOS': '\x1bX',
  'PM': '\x1b^',
  'APC': '\x1b_',
  'DCS (8-bit)': '\u0090',
  'APC (8-bit)': '\u009f',
};

async function screenOf(chunks: Buffer[]): Promise<string[]> {
  const screen = new ScreenTracker(40, 6, () => undefined);
  try {
    for (const chunk of chunks) screen.write(chunk);
    await screen.settled({ outputEnded: true });
    return screen.snapshot().lines;
  } finally {
    screen.dispose();
  }
}

for (const [name, opener] of Object.entries(OPENERS)) {
  test(`a ${name} string ended by BEL leaves the rest of the output on screen and in the text view`, async () => {
    const raw = `first\r\n${opener}1;2|payload\x07second\r\nthird\r\n`;
    const bytes = Buffer.from(raw);
    // Whole, and split at every byte: the opener and the BEL can land on either side of a chunk boundary.
    assert.deepEqual((await screenOf([bytes])).slice(0, 3), ['first', 'second', 'third']);
    for (let cut = 1; cut < bytes.length; cut++) {
      const lines = await screenOf([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(lines.slice(0, 3), ['first', 'second', 'third'], `split at byte ${cut}`);
    }
    assert.equal(toPlainText(raw), 'first\nsecond\nthird\n');
  });
}

test('strings ended by ST, CAN or ESC still end there, and a BEL outside any string is only a bell', async () => {
  const raw = 'a\x1bPx\x1b\\b\x1b_y\x18c\x1bPz\x1b[1md\x07e\r\n';
  assert.deepEqual((await screenOf([Buffer.from(raw)])).slice(0, 1), ['abcde']);
});

test('a real program that prints an APC ended by BEL still has its screen, its text output and its search', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({
      command: ['/bin/sh', '-c', String.raw`printf 'before\n\033_Gpayload\007after\n'; exit 0`],
    });
    await session.whenTerminated();
    const screen = await session.screenSnapshot();
    assert.deepEqual(screen.lines.slice(0, 2), ['before', 'after']);
    const out = session.readOutput({ since: 0, format: 'text', encoding: 'utf8', maxBytes: 1 << 20, stream: 'combined' });
    assert.equal(out.data, 'before\nafter\n');
    const found = new EngineSessions(engine.manager).search(session.id, { pattern: '^after$', ignoreCase: false, limit: 5, stream: 'combined' });
    assert.deepEqual(found.matches.map((m) => m.line), ['after']);
  } finally {
    await engine.close();
  }
});
