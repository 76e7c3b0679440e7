// Proves the live-session limit of PRODUCT §1.6 through a real daemon: past `--max-sessions` a create answers
// 429 SESSION_LIMIT and starts nothing; ending a session frees its slot. (Body and size caps: doorAndBadInput.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemonHarness.js';
import { countOwnTree } from '../../src/engine/process/processTree.js';
import { createSession, listIds } from '../helpers/coreSupport.js';

test('with --max-sessions 2 the third create is 429 SESSION_LIMIT with Retry-After, starts no process and leaves the list unchanged', async () => {
  const daemon = await startDaemon({ args: ['--max-sessions', '2'] });
  try {
    const first = await createSession(daemon, { command: ['/bin/sleep', '1000'] });
    await createSession(daemon, { kind: 'pipe', command: ['/bin/sleep', '1000'] });
    const before = await listIds(daemon);
    const processesBefore = countOwnTree().processes;
    for (const body of [{ command: ['/bin/sleep', '1000'] }, { kind: 'pipe', command: ['/bin/true'] }, {}]) {
      const third = await daemon.request<{ error: { code: string; details: { live: number; max: number } } }>('POST', '/api/v1/sessions', body);
      assert.equal(third.status, 429);
      assert.equal(third.body.error.code, 'SESSION_LIMIT');
      assert.deepEqual(third.body.error.details, { live: 2, max: 2 });
    }
    // A 429 says when to come back.
    const refused = await fetch(`${daemon.url}/api/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    await refused.text();
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'a 429 without Retry-After');
    const exec = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/exec', { command: ['/bin/true'] });
    assert.equal(exec.status, 429, 'one-shot exec counts against the limit too');
    assert.deepEqual(await listIds(daemon), before);
    assert.equal(countOwnTree().processes, processesBefore, 'a refused create started a process');

    assert.equal((await daemon.request('DELETE', `/api/v1/sessions/${first.id}`)).status, 200);
    await createSession(daemon, { command: ['/bin/true'] });
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
