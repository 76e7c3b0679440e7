import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemonHarness.js';

test('bin/corral serve starts, answers a session over REST and shuts down with exit 0', async () => {
  const daemon = await startDaemon({ useBin: true });
  try {
    const created = await daemon.request<{ id: string; state: string }>('POST', '/api/v1/sessions', { command: ['/bin/echo', 'hi'] });
    assert.equal(created.status, 201);
    const waited = await daemon.request<{ matched: boolean; session: { exit: { code: number } } }>(
      'POST',
      `/api/v1/sessions/${created.body.id}/wait`,
      { exit: true, timeoutMs: 10_000 },
    );
    assert.equal(waited.body.matched, true);
    assert.equal(waited.body.session.exit.code, 0);
    const out = await daemon.request<{ data: string }>('GET', `/api/v1/sessions/${created.body.id}/output?format=text`);
    assert.equal(out.body.data, 'hi\n');
  } finally {
    assert.equal(await daemon.stop(), 0);
    daemon.cleanup();
  }
});
