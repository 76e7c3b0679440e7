// The headless screen is built on demand and dropped when unread (issue 18: cost per idle session). A rebuilt screen
// must be the screen that was never dropped: compared cell by cell (characters, colours, attributes, both buffers,
// cursor, modes, title) against a tracker fed the same bytes that never drops, on a real bash session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenTracker, type ScreenHistory } from '../../../src/engine/screen/ScreenTracker.js';
import { startEngine } from '../../helpers/engineHarness.js';
import type { Session } from '../../../src/engine/Session.js';

const WAIT_MS = 30_000;

/** Runs a command line in the shell and waits for its marker line and the next prompt. */
async function run(session: Session, command: string, marker: string): Promise<void> {
  const since = session.output.endOffset;
  session.write(`${command}; echo ${marker.slice(0, 4)}''${marker.slice(4)}\r`);
  const outcome = await session.waitFor({ pattern: new RegExp(`^${marker}`, 'm'), since }, WAIT_MS);
  assert.equal(outcome, 'pattern', `no ${marker} in the output`);
  assert.equal(await session.waitFor({ states: ['ready', 'idle'] }, WAIT_MS), 'state');
}

function screenOf(session: Session): ScreenTracker {
  const screen = session.screenTracker;
  assert.ok(screen !== null, 'a pty session has a screen tracker');
  return screen;
}

async function assertSameScreen(session: Session, reference: ScreenTracker, what: string): Promise<void> {
  // The prompt's text can still arrive after the state change: compare once no byte came in while both settled.
  for (let attempt = 0; ; attempt++) {
    const end = session.output.endOffset;
    await session.screenSnapshot();
    await reference.settled();
    await screenOf(session).settled();
    if (session.output.endOffset !== end && attempt < 100) continue;
    // Nothing arrived since `end` and nothing can until this synchronous part ends: both parsed the same bytes.
    assert.deepEqual(screenOf(session).snapshot(), reference.snapshot(), `${what}: snapshot`);
    assert.deepEqual(session.scrollback(500), reference.scrollback(500), `${what}: scrollback`);
    assert.equal(screenOf(session).fingerprint(), reference.fingerprint(), `${what}: every cell`);
    return;
  }
}

test('a dropped screen rebuilds cell for cell as the screen that was never dropped (bash: colours, cursor moves, alternate screen, resizes)', { timeout: 120_000 }, async () => {
  // No timed drops: the test drops the screen itself at the points it chooses.
  const engine = await startEngine({ screenDropAfterMs: 60 * 60_000 });
  const reference = new ScreenTracker(80, 24, () => undefined);
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: ['/bin/bash', '-i'], cols: 80, rows: 24 });
    // Fed in the same call as the session's own screen: both always have the same bytes.
    const feed = session.output.onData(({ data }) => reference.write(data));
    const resize = (cols: number, rows: number): void => {
      session.resize(cols, rows);
      reference.resize(cols, rows);
    };
    try {
      assert.equal(await session.waitFor({ states: ['ready', 'idle'] }, WAIT_MS), 'state');
      const screen = screenOf(session);
      // Nothing read the screen of this idle shell (shell integration reads marks, not screens): no terminal exists.
      assert.equal(screen.built, false, 'an unread screen is not built');

      await run(
        session,
        String.raw`printf '\e[1;31mred\e[0m \e[42;30mgreen\e[0m \e[4;38;5;208munder\e[0m \e[3;38;2;10;20;30mrgb\e[0m\n'; printf '\e[5;10Hmoved\e[2;3Hx\e[K\e[7mrev\e[0m\n'; for i in $(seq 1 60); do printf 'line %s \e[3%sm%s\e[0m\n' $i $((i % 8)) colour; done`,
        'COLOURS-DONE',
      );
      assert.equal(screen.built, false, 'output alone does not build the screen');
      await assertSameScreen(session, reference, 'after colours and cursor moves');
      assert.equal(screen.built, true);

      // Dropped, resized while dropped, output while dropped (a full-screen program left open in the alternate buffer).
      assert.equal(screen.drop(), true, 'a settled, unwatched screen drops');
      assert.equal(screen.built, false);
      resize(100, 30);
      const since = session.output.endOffset;
      // The mark waited for is printed by the program, never echoed with the command line: the echo spells `here %s`.
      session.write(String.raw`printf '\e[?1049h\e[2J\e[H\e[33malt screen\e[0m\e[10;5H\e[1mhere %s\e[0m\e[?25l' $((40 + 2)); read -r -t 30 answer; printf '\e[?25h\e[?1049lback %s\n' "$answer"` + '\r');
      assert.equal(await session.waitFor({ pattern: /here 42/, since }, WAIT_MS), 'pattern');
      assert.equal(screen.built, false, 'still not built: nobody read it');
      await assertSameScreen(session, reference, 'in the alternate screen after a resize while dropped');
      assert.equal(screenOf(session).snapshot().alternateScreen, true);

      // Dropped again in the alternate screen, resized twice, then back to the normal buffer with more output.
      assert.equal(screen.drop(), true);
      resize(60, 20);
      session.write('typed\r');
      assert.equal(await session.waitFor({ states: ['ready', 'idle'] }, WAIT_MS), 'state');
      resize(90, 25);
      await run(session, String.raw`printf '\e]0;my title\a\e[32m%s\e[0m\n' "$(seq -s ' ' 1 80)"`, 'AFTER-ALT');
      await assertSameScreen(session, reference, 'back in the normal buffer');
      assert.equal(screenOf(session).snapshot().title, 'my title');
    } finally {
      feed.dispose();
    }
  } finally {
    reference.dispose();
    await engine.close();
  }
});

test('a terminal query is answered while the screen is dropped (the program does not hang)', { timeout: 60_000 }, async () => {
  const engine = await startEngine({ screenDropAfterMs: 60 * 60_000 });
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: ['/bin/bash', '-i'], cols: 80, rows: 24 });
    assert.equal(await session.waitFor({ states: ['ready', 'idle'] }, WAIT_MS), 'state');
    const screen = screenOf(session);
    await session.screenSnapshot();
    assert.equal(screen.drop(), true);
    // A cursor position report: without an answer `read` times out and prints NONE.
    await run(session, String.raw`printf '\e[3;7H\e[6n'; if IFS= read -rs -t 20 -d R pos; then echo "POS=` + '${pos#*[}' + '"; else echo NONE; fi', 'QUERY-DONE');
    const text = session.readOutput({ since: 0, format: 'text', encoding: 'utf8', maxBytes: 1 << 20, stream: 'combined' }).data;
    assert.match(text, /POS=3;7/);
    assert.doesNotMatch(text, /^NONE$/m);
  } finally {
    await engine.close();
  }
});

test('a rebuild does not answer the old queries again', async () => {
  const bytes: Buffer[] = [];
  const history: ScreenHistory = {
    get endOffset() {
      return bytes.reduce((n, b) => n + b.length, 0);
    },
    firstAvailableOffset: 0,
    memoryCapBytes: 1 << 20,
    read(since, maxBytes) {
      const all = Buffer.concat(bytes);
      return { data: all.subarray(since, since + maxBytes), offset: since };
    },
  };
  const replies: string[] = [];
  const screen = new ScreenTracker(80, 24, (data) => replies.push(data), undefined, { history });
  try {
    const feed = (text: string): void => {
      const data = Buffer.from(text);
      bytes.push(data);
      screen.write(data);
    };
    feed('hello\x1b[6n');
    await screen.settled();
    assert.deepEqual(replies, ['\x1b[1;6R']);
    assert.equal(screen.drop(), true);
    feed(' world\r\n');
    assert.equal(screen.built, false);
    await screen.settled();
    assert.equal(screen.snapshot().lines[0], 'hello world');
    assert.deepEqual(replies, ['\x1b[1;6R'], 'the replayed query was not answered twice');
  } finally {
    screen.dispose();
  }
});

test('an unread screen is dropped after the idle time, and a screen wait builds it again', { timeout: 60_000 }, async () => {
  const engine = await startEngine({ screenDropAfterMs: 100 });
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: ['/bin/bash', '-i'], cols: 80, rows: 24 });
    assert.equal(await session.waitFor({ states: ['ready', 'idle'] }, WAIT_MS), 'state');
    await run(session, 'echo visible-line', 'ECHO-DONE');
    const screen = screenOf(session);
    assert.ok((await session.screenSnapshot()).lines.some((line) => line === 'visible-line'));
    assert.equal(screen.built, true);
    const deadline = Date.now() + WAIT_MS;
    while (screen.built && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(screen.built, false, 'dropped once nobody read it for the idle time');
    assert.equal(await session.waitFor({ pattern: /visible-line/, screen: true, since: session.output.endOffset }, WAIT_MS), 'pattern');
  } finally {
    await engine.close();
  }
});

test('output piling up behind a dropped screen rebuilds it before the ring lets go of what a replay needs', { timeout: 120_000 }, async () => {
  // A 64 KiB ring: a replay may need at most 32 KiB, so ~400 KB of output must bring the terminal back on its own.
  const engine = await startEngine({ ringBytes: 64 * 1024, screenDropAfterMs: 60 * 60_000 });
  const reference = new ScreenTracker(80, 24, () => undefined);
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: ['/bin/bash', '-i'], cols: 80, rows: 24 });
    const feed = session.output.onData(({ data }) => reference.write(data));
    try {
      assert.equal(await session.waitFor({ states: ['ready', 'idle'] }, WAIT_MS), 'state');
      const screen = screenOf(session);
      await session.screenSnapshot();
      assert.equal(screen.drop(), true);
      await run(session, String.raw`for i in $(seq 1 40000); do printf '\e[3%sm%s\e[0m\n' $((i % 8)) $i; done`, 'PILE-DONE');
      assert.equal(screen.built, true, 'built again by the output alone, nobody read it');
      await assertSameScreen(session, reference, 'after 400 KB behind a dropped screen');
    } finally {
      feed.dispose();
    }
  } finally {
    reference.dispose();
    await engine.close();
  }
});
