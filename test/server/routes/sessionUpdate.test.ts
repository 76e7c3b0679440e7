// PATCH /sessions/{id} (rename), and the dialog and conversation routes for sessions that are not agents, through
// the real daemon's app: bad input gets a stable error and changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConversationReply, DialogReply } from '../../../src/protocol/apiReplies.js';
import type { SessionInfo } from '../../../src/protocol/sessionTypes.js';
import { startInProcessDaemon } from '../../helpers/inProcessDaemon.js';

interface ErrorBody {
  error: { code: string };
}

test('a live session is renamed, the name cleared; bad names, unknown and ended sessions are refused and nothing changes', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sleep', '300'], name: 'before' });
    assert.equal(created.status, 201);
    const id = created.body.id;
    const renamed = await daemon.request<SessionInfo>('PATCH', `/api/v1/sessions/${id}`, { name: 'after' });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.name, 'after');
    assert.equal((await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`)).body.name, 'after');
    const listed = await daemon.request<{ sessions: SessionInfo[] }>('GET', '/api/v1/sessions');
    assert.equal(listed.body.sessions.find((s) => s.id === id)?.name, 'after');

    for (const body of [{ name: '' }, { name: 'x'.repeat(129) }, { name: 'a\u0000b' }, {}, { name: 'ok', taskId: 'sneaky' }]) {
      const refused = await daemon.request<ErrorBody>('PATCH', `/api/v1/sessions/${id}`, body);
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
    }
    assert.equal((await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`)).body.name, 'after', 'refusals changed nothing');

    const cleared = await daemon.request<SessionInfo>('PATCH', `/api/v1/sessions/${id}`, { name: null });
    assert.equal(cleared.body.name, null);

    const unknown = await daemon.request<ErrorBody>('PATCH', '/api/v1/sessions/s_nope', { name: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'SESSION_NOT_FOUND');

    await daemon.request('DELETE', `/api/v1/sessions/${id}`);
    const ended = await daemon.request<ErrorBody>('PATCH', `/api/v1/sessions/${id}`, { name: 'late' });
    assert.equal(ended.status, 409);
    assert.equal(ended.body.error.code, 'SESSION_NOT_RUNNING');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('dialog and conversation of a session that is not an agent: no dialog, the prompt history (empty); unknown ids 404', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sleep', '300'] });
    const id = created.body.id;
    const dialog = await daemon.request<DialogReply>('GET', `/api/v1/sessions/${id}/dialog`);
    assert.equal(dialog.status, 200);
    assert.deepEqual({ dialog: dialog.body.dialog, lastReply: dialog.body.lastReply }, { dialog: null, lastReply: null });
    const conversation = await daemon.request<ConversationReply>('GET', `/api/v1/sessions/${id}/conversation`);
    assert.deepEqual(conversation.body, { turns: [], source: 'history' });
    const badLimit = await daemon.request<ErrorBody>('GET', `/api/v1/sessions/${id}/conversation?limit=0`);
    assert.equal(badLimit.body.error.code, 'VALIDATION_FAILED');
    for (const path of ['dialog', 'conversation']) {
      const unknown = await daemon.request<ErrorBody>('GET', `/api/v1/sessions/s_nope/${path}`);
      assert.equal(unknown.status, 404, path);
    }
    const openapi = await daemon.request<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/v1/openapi.json');
    assert.ok(openapi.body.paths['/api/v1/sessions/{id}']?.patch, 'PATCH is in the OpenAPI document');
    assert.ok(openapi.body.paths['/api/v1/sessions/{id}/dialog']?.get);
    assert.ok(openapi.body.paths['/api/v1/sessions/{id}/conversation']?.get);
    await daemon.request('DELETE', `/api/v1/sessions/${id}`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
