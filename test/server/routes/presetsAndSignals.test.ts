// Friction a new user hit, each checked through REST on a real daemon: a template that could never start a
// session is refused when saved (and nothing is stored); a bad regex error says its prefix once; a signal is
// accepted as `USR1` as well as `SIGUSR1`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInProcessDaemon } from '../../helpers/inProcessDaemon.js';

interface ErrorReply {
  error: { code: string; message: string };
}

test('templates are checked when saved: profile, cwd, env, secretEnv, command and its interpreter', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const script = join(daemon.root, 'broken.sh');
    writeFileSync(script, '#!/no/such/interpreter\n');
    chmodSync(script, 0o755);
    const refused: [Record<string, unknown>, string][] = [
      [{ profile: 'no-such-profile' }, 'PROFILE_NOT_FOUND'],
      [{ cwd: '/' }, 'CWD_NOT_ALLOWED'],
      [{ cwd: join(daemon.root, 'missing') }, 'CWD_NOT_FOUND'],
      [{ env: { LD_PRELOAD: '/x.so' } }, 'ENV_NOT_ALLOWED'],
      [{ env: { A: '1' }, secretEnv: ['B'] }, 'VALIDATION_FAILED'],
      [{ command: ['no-such-program-xyz'] }, 'COMMAND_NOT_FOUND'],
      [{ command: [daemon.root] }, 'COMMAND_NOT_EXECUTABLE'],
      [{ command: [script] }, 'INTERPRETER_NOT_FOUND'],
    ];
    for (const [body, code] of refused) {
      const reply = await daemon.request<ErrorReply>('POST', '/api/v1/templates', { name: 'bad', ...body });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.error.code, code, JSON.stringify(body));
      assert.match(reply.body.error.message, /^Template "bad" was not saved: /);
    }
    const list = await daemon.request<{ templates: unknown[] }>('GET', '/api/v1/templates');
    assert.deepEqual(list.body.templates, [], 'nothing refused was stored');
    const good = await daemon.request('POST', '/api/v1/templates', { name: 'good', profile: 'shell', cwd: daemon.root, command: ['/bin/sh'], env: { EDITOR: 'vi' } });
    assert.equal(good.status, 201);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a bad regular expression is reported with its prefix once', async () => {
  const daemon = await startInProcessDaemon();
  try {
    const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['sleep', '30'], cwd: daemon.root });
    const reply = await daemon.request<ErrorReply>('POST', `/api/v1/sessions/${created.body.id}/wait`, { pattern: '(', timeoutMs: 10 });
    assert.equal(reply.body.error.code, 'INVALID_PATTERN');
    assert.equal(reply.body.error.message.split('Invalid regular expression').length - 1, 1, reply.body.error.message);
    await daemon.request('DELETE', `/api/v1/sessions/${created.body.id}?force=true`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('the signal body takes USR1, usr1 and SIGUSR1 alike; an unknown name is still refused', async () => {
  const daemon = await startInProcessDaemon();
  try {
    // A shell that counts USR1s: each one it gets prints a line.
    const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', {
      command: ['/bin/sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.1; done'],
      kind: 'pipe',
      cwd: daemon.root,
    });
    const id = created.body.id;
    const ready = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, { pattern: 'ready', since: 0, timeoutMs: 30_000 });
    assert.equal(ready.body.matched, true);
    for (const [n, name] of ['USR1', 'usr1', 'SIGUSR1'].entries()) {
      const sent = await daemon.request('POST', `/api/v1/sessions/${id}/signal`, { signal: name });
      assert.equal(sent.status, 200, name);
      const got = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, {
        pattern: `(got-usr1\\n[^]*){${n + 1}}`,
        since: 0,
        timeoutMs: 30_000,
      });
      assert.equal(got.body.matched, true, name);
    }
    const unknown = await daemon.request<ErrorReply>('POST', `/api/v1/sessions/${id}/signal`, { signal: 'BOGUS' });
    assert.equal(unknown.status, 400);
    await daemon.request('DELETE', `/api/v1/sessions/${id}?force=true`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
