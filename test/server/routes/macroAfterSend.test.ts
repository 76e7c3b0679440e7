// A macro's waitPattern right after a send, in a shell at its prompt, matches the command's output, not the
// terminal's echo of the typed line that holds the same text (the pattern BUILD-OK once matched in 4 ms while the
// real output came a second later). Real bash in a real terminal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessDaemon } from '../../helpers/inProcessDaemon.js';

test('waitPattern after send matches output produced after the command started, not its echo', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', {
      profile: 'shell',
      command: ['/bin/bash', '-i'],
      cwd: daemon.root,
      env: { HOME: daemon.root },
    });
    const id = created.body.id;
    const ready = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, { states: ['ready', 'idle'], timeoutMs: 60_000 });
    assert.equal(ready.body.matched, true);
    const saved = await daemon.request('POST', '/api/v1/macros', {
      name: 'build',
      steps: [
        // The typed line itself holds BUILD-OK; the command prints it only after three seconds.
        { type: 'send', text: 'sleep 3 && echo BUILD-OK\r' },
        { type: 'waitPattern', pattern: 'BUILD-OK', timeoutMs: 60_000 },
      ],
    });
    assert.equal(saved.status, 201);
    const run = await daemon.request<{ ok: boolean; steps: unknown[] }>('POST', `/api/v1/sessions/${id}/macros/build/run`);
    assert.equal(run.body.ok, true, JSON.stringify(run.body));
    // When the wait returned, the command's own BUILD-OK line was there, after the echo's.
    const output = await daemon.request<{ data: string }>('GET', `/api/v1/sessions/${id}/output?since=0&format=text`);
    assert.ok(output.body.data.split('BUILD-OK').length - 1 >= 2, JSON.stringify(output.body.data));
    await daemon.request('DELETE', `/api/v1/sessions/${id}?force=true`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
