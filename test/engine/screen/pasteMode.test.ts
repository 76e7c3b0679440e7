// A program's bracketed paste mode, as the screen saw it: Gemini CLI turns it on in the same tick as it starts reading
// keys, so `ready` for its profile waits for it (readyAwaitsPasteMode). The mode must follow the bytes, or such a
// session would wait out the bound. (A dropped and rebuilt screen keeps its modes: screenRebuild.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenTracker } from '../../../src/engine/screen/ScreenTracker.js';

test('bracketed paste mode follows DECSET/DECRST 2004', async () => {
  const screen = new ScreenTracker(80, 24, () => undefined);
  assert.equal(screen.bracketedPasteMode, false, 'off until the program turns it on');
  screen.write(Buffer.from('drawing the input line first\r\n> '));
  await screen.settled();
  assert.equal(screen.bracketedPasteMode, false, 'an input line alone is not paste mode');
  screen.write(Buffer.from('\x1b[?2004h'));
  await screen.settled();
  assert.equal(screen.bracketedPasteMode, true);
  screen.write(Buffer.from('more output'));
  await screen.settled();
  assert.equal(screen.bracketedPasteMode, true, 'it stays on while the program runs');
  screen.write(Buffer.from('\x1b[?2004l'));
  await screen.settled();
  assert.equal(screen.bracketedPasteMode, false, 'a program that exits turns it off (Gemini CLI when it restarts itself)');
  screen.dispose();
});
