import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenTracker } from '../../../src/engine/screen/ScreenTracker.js';

test('under a flood the screen keeps up by rebuilding from the newest bytes, and ends showing the last output', async () => {
  const replies: string[] = [];
  const screen = new ScreenTracker(80, 24, (data) => replies.push(data));
  try {
    // 32 MB of numbered lines in 64 KB writes, as fast as they come, then a final marker line.
    const line = (n: number): string => `line ${String(n).padStart(8, '0')} ${'x'.repeat(50)}\r\n`;
    let n = 0;
    for (let chunk = 0; chunk < 512; chunk++) {
      let text = '';
      while (text.length < 64 * 1024) text += line(n++);
      screen.write(Buffer.from(text));
      if (chunk % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    screen.write(Buffer.from('THE END\r\n'));
    await screen.settled({ outputEnded: true });
    const lines = screen.snapshot().lines;
    assert.ok(lines.some((l) => l === 'THE END'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`line ${String(n - 1).padStart(8, '0')}`)), 'the last numbered line is on screen');
  } finally {
    screen.dispose();
  }
});

test('a screen read during an endless flood answers instead of waiting for the flood to end', async () => {
  const screen = new ScreenTracker(80, 24, () => undefined);
  let flooding = true;
  const chunk = Buffer.from('y\r\n'.repeat(64 * 1024));
  const pump = (async () => {
    while (flooding) {
      screen.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await screen.settled();
    assert.ok(screen.snapshot().lines.some((l) => l === 'y'));
  } finally {
    flooding = false;
    await pump;
    screen.dispose();
  }
});

test("an exited session's final screen is rebuilt at once, not after the flood's cooldown", { timeout: 60_000 }, async () => {
  // A cooldown of 10 minutes between rebuilds: a final settle that waited it out would time this test out.
  const screen = new ScreenTracker(80, 24, () => undefined, 10 * 60 * 1000);
  try {
    // 4 MB in one batch puts the screen behind (a flood); the last line then only reaches the kept tail.
    const chunk = Buffer.from('z'.repeat(64 * 1024));
    for (let i = 0; i < 64; i++) screen.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
    screen.write(Buffer.from('\r\nTHE LAST LINE\r\n'));
    await screen.settled({ outputEnded: true });
    assert.ok(screen.snapshot().lines.includes('THE LAST LINE'), screen.snapshot().lines.join('\n'));
  } finally {
    screen.dispose();
  }
});
