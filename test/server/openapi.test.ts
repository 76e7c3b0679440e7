import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessDaemon } from '../helpers/inProcessDaemon.js';

test('the OpenAPI document lists the routes of every face, core and attached', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const { status, body } = await daemon.request<{ openapi: string; paths: Record<string, Record<string, { summary: string }>> }>(
      'GET',
      '/api/v1/openapi.json',
    );
    assert.equal(status, 200);
    assert.equal(body.openapi, '3.1.0');
    const paths = Object.keys(body.paths);
    for (const path of [
      '/api/v1/sessions',
      '/api/v1/sessions/{id}/output',
      '/api/v1/exec',
      '/api/v1/events',
      '/api/v1/webhooks',
      '/api/v1/webhooks/{id}/deliveries',
      '/mcp',
      '/login',
    ]) {
      assert.ok(paths.includes(path), `${path} missing from OpenAPI (have ${paths.join(', ')})`);
    }
    assert.ok(body.paths['/api/v1/sessions']?.post?.summary);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
