// `corral attach` driven through a real PTY (the CLI runs under node-pty as in a terminal emulator): type and
// see output, resize reaches the session, the detach keys leave the session running, a reattach redraws the
// screen, --read-only cannot type.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import * as pty from 'node-pty';
import { DetachMatcher, parseDetachKeys } from '../../src/cli/commands/attachCommand.js';
import { REPO_ROOT, startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';
import { WAIT_LIMIT_MS } from '../helpers/wsTestClient.js';

interface Terminal {
  proc: pty.IPty;
  text: () => string;
  until: (pattern: RegExp | string, what: string) => Promise<void>;
  exited: Promise<number>;
}

/** Runs `corral attach …` in a PTY of the given size, recording everything it draws. */
function attachInPty(d: DaemonHandle, args: string[], cols = 90, rows = 25): Terminal {
  const proc = pty.spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'attach', ...args], {
    cols,
    rows,
    cwd: REPO_ROOT,
    env: { ...process.env, CORRAL_URL: d.url, CORRAL_TOKEN: d.token },
  });
  let out = '';
  const waiters = new Set<() => void>();
  proc.onData((data) => {
    out += data;
    for (const waiter of [...waiters]) waiter();
  });
  const exited = new Promise<number>((resolve) => proc.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    proc,
    text: () => out,
    exited,
    until(pattern, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; terminal shows: ${JSON.stringify(out.slice(-400))}`));
        }, WAIT_LIMIT_MS);
        waiters.add(check);
        check();
      });
    },
  };
}

test('attach: type and see output, resize, detach with C-], reattach redraws the screen, read-only cannot type', async () => {
  const d = await startDaemon();
  try {
    const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['bash', '--norc', '--noprofile'], cwd: d.root });
    const id = created.body.id;

    const first = attachInPty(d, [id], 90, 25);
    await first.until(`[attached to ${id}`, 'attached banner');
    first.proc.write('echo typed-$((40+2))\r');
    await first.until('typed-42', 'command output');
    // The attach sets the session to its terminal size, and follows SIGWINCH.
    first.proc.resize(100, 30);
    // SIGWINCH → resize frame travels asynchronously; the daemon's record of the size says when it arrived.
    const deadline = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const info = await d.request<{ cols: number; rows: number }>('GET', `/api/v1/sessions/${id}`);
      if (info.body.cols === 100 && info.body.rows === 30) break;
      assert.ok(performance.now() < deadline, `session size stayed ${info.body.cols}x${info.body.rows}`);
      await sleep(50);
    }
    first.proc.write('stty size\r');
    await first.until('30 100', 'new size inside the session');
    first.proc.write('\x1d');
    assert.equal(await first.exited, 0);
    assert.match(first.text(), /\[detached from s_/);
    assert.notEqual((await d.request<{ state: string }>('GET', `/api/v1/sessions/${id}`)).body.state, 'terminated');

    // Output made while nobody was attached shows up in the redrawn screen of the next attach.
    await d.request('POST', `/api/v1/sessions/${id}/input`, { data: 'echo while-$((6*7))-away\r' });
    for (;;) {
      const text = await d.request<{ data: string }>('GET', `/api/v1/sessions/${id}/output?since=0&format=text`);
      if (text.body.data.includes('while-42-away')) break;
      assert.ok(performance.now() < deadline + WAIT_LIMIT_MS, 'output while detached');
      await sleep(50);
    }
    const viewer = attachInPty(d, [id, '--read-only'], 100, 30);
    await viewer.until('while-42-away', 'redrawn screen');
    viewer.proc.write('echo from-viewer-$((1+1))\r');
    const second = attachInPty(d, [id, '--detach-keys', 'C-b,d'], 100, 30);
    await second.until('while-42-away', 'screen of the second attach');
    second.proc.write('echo again-$((3*3))\r');
    await second.until('again-9', 'typing after reattach');
    await viewer.until('again-9', 'the read-only viewer sees the same output');
    const output = await d.request<{ data: string }>('GET', `/api/v1/sessions/${id}/output?since=0&format=text`);
    assert.equal(output.body.data.includes('from-viewer-2'), false, 'the read-only attach typed nothing');
    second.proc.write('\x02d');
    assert.equal(await second.exited, 0);
    viewer.proc.write('\x1d');
    assert.equal(await viewer.exited, 0);

    // Detaching resets the modes the session turned on (here by plain output the attach did not track).
    const modes = attachInPty(d, [id]);
    await modes.until(`[attached to ${id}`, 'attached for the modes');
    const on = ['\x1b[?1049h', '\x1b[?1000h', '\x1b[?1002h', '\x1b[?1003h', '\x1b[?1006h', '\x1b[?1015h', '\x1b[?1h', '\x1b=', '\x1b[?2004h', '\x1b[?25l'];
    const printf = on.map((seq) => seq.replace('\x1b', '\\033')).join('');
    modes.proc.write(`printf '${printf}'; echo modes-$((2+3))-on\r`);
    await modes.until('modes-5-on', 'the modes switched on');
    modes.proc.write('\x1d');
    assert.equal(await modes.exited, 0);
    const drawn = modes.text();
    const off = ['\x1b[?1049l', '\x1b[?1000l', '\x1b[?1002l', '\x1b[?1003l', '\x1b[?1006l', '\x1b[?1015l', '\x1b[?1l', '\x1b>', '\x1b[?2004l', '\x1b[?25h'];
    on.forEach((seq, i) => {
      const reset = off[i] ?? '';
      assert.ok(drawn.lastIndexOf(reset) > drawn.lastIndexOf(seq), `${JSON.stringify(reset)} after the last ${JSON.stringify(seq)}`);
    });
    assert.ok(drawn.lastIndexOf('\x1b[0m') > drawn.lastIndexOf('modes-5-on'), 'SGR reset after the session output');

    // The session ending ends the attach.
    const last = attachInPty(d, [id]);
    await last.until(`[attached to ${id}`, 'attached again');
    last.proc.write('exit 5\r');
    assert.equal(await last.exited, 0);
    assert.match(last.text(), /ended: exited, code 5/);
  } finally {
    await d.stop();
    d.cleanup();
  }
});

for (const how of ['SIGTERM', 'kill -9'] as const) {
  test(`attach rides through a daemon restart (${how}): "reconnecting…", then the bytes made meanwhile, then typing works again`, async () => {
    const first = await startDaemon();
    let second: DaemonHandle | null = null;
    try {
      const created = await first.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['bash', '--norc', '--noprofile'], cwd: first.root });
      const id = created.body.id;
      const terminal = attachInPty(first, [id]);
      await terminal.until(`[attached to ${id}`, 'attached banner');
      // Output that came through the attachment (the terminal's own echo of the typing shows only the command).
      terminal.proc.write('echo ready-$((1+1))\r');
      await terminal.until('ready-2', 'the attachment is live');
      // Printed while no daemon runs: the holder keeps it, the reopened attachment gets it from its last offset.
      terminal.proc.write('sleep 2; echo during-$((6*7))-downtime\r');
      await terminal.until('sleep 2;', 'the command echoed');
      if (how === 'kill -9') await first.crash();
      else assert.equal(await first.stop('keep-sessions'), 0);
      await terminal.until('reconnecting…', 'the reconnecting line');
      // The same port: the attachment reopens the URL it started with.
      second = await startDaemon({ dataDir: first.dataDir, base: first.base, args: ['--port', new URL(first.url).port] });
      await terminal.until('during-42-downtime', 'output made during the restart');
      terminal.proc.write('echo after-$((40+2))-restart\r');
      await terminal.until('after-42-restart', 'typing after the restart');
      terminal.proc.write('\x1d');
      assert.equal(await terminal.exited, 0);
    } finally {
      await stopLeavingNothing(first, second);
    }
  });
}

test('attach of an unknown session fails with the not-found exit code', async () => {
  const d = await startDaemon();
  try {
    const term = attachInPty(d, ['s_AAAAAAAAAAAAAAAAAAAAAA']);
    assert.equal(await term.exited, 3);
    assert.match(term.text(), /No session/);
  } finally {
    await d.stop();
    d.cleanup();
  }
});

test('detach keys: held while they may be the sequence, passed on once it diverges', () => {
  assert.deepEqual([...parseDetachKeys('C-]')], [0x1d]);
  assert.deepEqual([...parseDetachKeys('C-b,d')], [0x02, 0x64]);
  assert.throws(() => parseDetachKeys('ctrl-x'));
  const matcher = new DetachMatcher(parseDetachKeys('C-b,d'));
  assert.deepEqual(matcher.feed(Buffer.from('ab')), { forward: Buffer.from('ab'), detach: false });
  assert.deepEqual(matcher.feed(Buffer.from('\x02')), { forward: Buffer.alloc(0), detach: false });
  assert.deepEqual(matcher.feed(Buffer.from('x')), { forward: Buffer.from('\x02x'), detach: false });
  assert.deepEqual(matcher.feed(Buffer.from('\x02\x02')), { forward: Buffer.from('\x02'), detach: false });
  assert.deepEqual(matcher.feed(Buffer.from('d')), { forward: Buffer.alloc(0), detach: true });
});
