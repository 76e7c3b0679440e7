// Commands a person runs in a shell session (here typed through `input`, as attach and the dashboard type) reach the
// command history with text, exit code, cwd, duration and output offsets, from the shell's own marks; commands
// exec runs are recorded once, as exec. Real bash and zsh in real terminals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startInProcessDaemon, type InProcessDaemonHandle } from '../../helpers/inProcessDaemon.js';
import type { CommandRecord } from '../../../src/protocol/commandHistory.js';

const DEADLINE_MS = 60_000;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

async function commands(daemon: InProcessDaemonHandle, id: string): Promise<CommandRecord[]> {
  return (await daemon.request<{ commands: CommandRecord[] }>('GET', `/api/v1/sessions/${id}/commands`)).body.commands;
}

/** Types a line at the prompt once the prompt is drawn, as a person would. */
async function typeLine(daemon: InProcessDaemonHandle, id: string, line: string): Promise<void> {
  const idle = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, { states: ['ready', 'idle'], timeoutMs: DEADLINE_MS });
  assert.equal(idle.body.matched, true);
  await waitFor('the prompt to be drawn', async () => {
    const screen = await daemon.request<{ lines: string[]; cursor: { y: number } }>('GET', `/api/v1/sessions/${id}/screen`);
    return /[$#%>]$/.test(screen.body.lines[screen.body.cursor.y]?.trimEnd() ?? '') ? true : undefined;
  });
  const sent = await daemon.request('POST', `/api/v1/sessions/${id}/input`, { data: line, keys: ['Enter'] });
  assert.equal(sent.status, 200);
}

for (const shell of ['/bin/bash', '/usr/bin/zsh']) {
  test(`typed commands in ${shell} reach the history with exit code, cwd, duration and output offsets`, async () => {
    const daemon = await startInProcessDaemon();
    try {
      const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', {
        profile: 'shell',
        command: [shell, '-i'],
        cwd: daemon.root,
        // No user rc files of the machine's user.
        env: { HOME: daemon.root, ZDOTDIR: daemon.root },
      });
      assert.equal(created.status, 201);
      const id = created.body.id;
      await typeLine(daemon, id, 'cd /tmp && echo typed-$((6*7)); (exit 5)');
      const first = await waitFor('the typed command to finish', async () => (await commands(daemon, id)).find((c) => c.kind === 'input' && c.endedAt !== null));
      assert.equal(first.text, 'cd /tmp && echo typed-$((6*7)); (exit 5)');
      assert.equal(first.exitCode, 5);
      assert.equal(first.cwd, '/tmp');
      assert.ok(first.durationMs !== null && first.durationMs >= 0);
      assert.ok(first.outputEnd !== null && first.outputEnd > first.outputStart);
      const output = await daemon.request<{ data: string }>(
        'GET',
        `/api/v1/sessions/${id}/output?since=${first.outputStart}&limit=${(first.outputEnd ?? 0) - first.outputStart}&format=text`,
      );
      assert.equal(output.body.data.trim(), 'typed-42');

      // exec's own command is recorded once, as exec; a typed command after it is recorded again.
      const exec = await daemon.request<{ exitCode: number }>('POST', `/api/v1/sessions/${id}/commands`, { command: 'echo via-exec', timeoutMs: DEADLINE_MS });
      assert.equal(exec.body.exitCode, 0);
      await typeLine(daemon, id, 'false');
      const all = await waitFor('the second typed command', async () => {
        const list = await commands(daemon, id);
        return list.some((c) => c.text === 'false' && c.endedAt !== null) ? list : undefined;
      });
      assert.deepEqual(
        all.map((c) => [c.kind, c.text, c.exitCode]),
        [
          ['input', 'cd /tmp && echo typed-$((6*7)); (exit 5)', 5],
          ['exec', 'echo via-exec', 0],
          ['input', 'false', 1],
        ],
      );
      await daemon.request('DELETE', `/api/v1/sessions/${id}?force=true`);
    } finally {
      await daemon.stop();
      daemon.cleanup();
    }
  });
}
