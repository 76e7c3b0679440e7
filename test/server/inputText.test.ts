// Input text with a lone surrogate has no UTF-8 form: every face that takes input refuses it with INVALID_UTF8
// and writes nothing (it used to reach the program as U+FFFD). One check in the engine serves them all.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startInProcessDaemon, type InProcessDaemonHandle } from '../helpers/inProcessDaemon.js';
import { TestSocket } from '../helpers/wsTestClient.js';
import { createSession, waitForText } from '../helpers/coreSupport.js';
import { call, errorText } from '../helpers/mcpScenarios.js';

/** A high surrogate with no low one after it, and a low one with no high one before it. */
const LONE = ['a\uD83D', '\uDE00b'];

let daemon: InProcessDaemonHandle;

before(async () => {
  daemon = await startInProcessDaemon({ listen: true });
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
});

test('input with a lone surrogate is refused with INVALID_UTF8 on REST, WebSocket and MCP, and nothing is written', async () => {
  // A pipe session's stdout is exactly what reached the program's stdin.
  const session = await createSession(daemon, { kind: 'pipe', command: ['/bin/cat'] });
  for (const text of LONE) {
    const rest = await daemon.request<{ error: { code: string; message: string } }>('POST', `/api/v1/sessions/${session.id}/input`, { data: text });
    assert.equal(rest.status, 400, JSON.stringify(rest.body));
    assert.equal(rest.body.error.code, 'INVALID_UTF8');
    assert.match(rest.body.error.message, /lone surrogate/);
  }

  const wsUrl = `${daemon.url.replace(/^http/, 'ws')}/ws/sessions/${session.id}`;
  const socket = await TestSocket.open(wsUrl, { authorization: `Bearer ${daemon.token}` });
  try {
    for (const text of LONE) socket.ws.send(JSON.stringify({ type: 'input', data: text }));
    await socket.until(() => socket.textsOf('error').length === LONE.length, 'an error frame per bad input');
    assert.deepEqual(socket.textsOf('error').map((frame) => frame.code), ['INVALID_UTF8', 'INVALID_UTF8']);
  } finally {
    socket.ws.close();
    await socket.closed;
  }

  const client = new Client({ name: 'corral-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${daemon.token}` } } }));
  try {
    for (const text of LONE) assert.match(errorText(await call(client, 'send_input', { sessionId: session.id, text })), /INVALID_UTF8|lone surrogate/);
    // A surrogate pair is one whole character and goes through.
    const pair = await call(client, 'send_input', { sessionId: session.id, text: '\uD83D\uDE00 ok\n', eof: true });
    assert.notEqual(pair.isError, true, JSON.stringify(pair.content));
  } finally {
    await client.close();
  }

  assert.equal(await waitForText(daemon, session.id, 'ok'), '\u{1F600} ok\n');
});
