// Proves that input after a pipe session's stdin was closed (eof) is refused with INPUT_CLOSED by every face —
// REST, the WebSocket and the MCP send_input tool — and is not delivered, while a repeated eof is a no-op.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WebSocketFace } from '../../src/server/ws/wsFace.js';
import { createCorralMcpServer } from '../../src/mcp/corralTools.js';
import { EngineBackend } from '../../src/mcp/EngineBackend.js';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { TestSocket, startInProcess, type InProcessDaemon } from '../helpers/wsTestClient.js';

/** Long enough for cat to echo a line on a loaded 2-core machine. */
const ECHO_TIMEOUT_MS = 20_000;

describe('input after eof', () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcess([new WebSocketFace()]);
  });
  after(async () => {
    await d.stop();
  });

  /** A pipe session that echoes its stdin until eof, then keeps running. */
  async function echoThenSleep(): Promise<SessionInfo> {
    const created = await d.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/sh', '-c', 'cat; sleep 30'], kind: 'pipe', cwd: d.root });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  }

  async function closeStdinAfterEcho(id: string): Promise<void> {
    const input = await d.request('POST', `/api/v1/sessions/${id}/input`, { data: 'first\n', eof: true });
    assert.equal(input.status, 200, JSON.stringify(input.body));
    const echoed = await d.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, { pattern: '^first$', since: 0, timeoutMs: ECHO_TIMEOUT_MS });
    assert.equal(echoed.body.matched, true, 'cat echoed the line written before eof');
  }

  async function outputText(id: string): Promise<string> {
    return (await d.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?format=text`)).body.data;
  }

  test('REST answers 409 INPUT_CLOSED and delivers nothing; a second eof is accepted as a no-op', async () => {
    const session = await echoThenSleep();
    await closeStdinAfterEcho(session.id);
    const more = await d.request<{ error: { code: string } }>('POST', `/api/v1/sessions/${session.id}/input`, { data: 'more\n' });
    assert.equal(more.status, 409, JSON.stringify(more.body));
    assert.equal(more.body.error.code, 'INPUT_CLOSED');
    const keys = await d.request<{ error: { code: string } }>('POST', `/api/v1/sessions/${session.id}/input`, { keys: ['Enter'] });
    assert.equal(keys.body.error.code, 'INPUT_CLOSED');
    const againEof = await d.request('POST', `/api/v1/sessions/${session.id}/input`, { eof: true });
    assert.equal(againEof.status, 200, JSON.stringify(againEof.body));
    assert.equal(await outputText(session.id), 'first\n');
    await d.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
  });

  test('a WebSocket input frame gets an INPUT_CLOSED error frame', async () => {
    const session = await echoThenSleep();
    await closeStdinAfterEcho(session.id);
    const client = await TestSocket.open(`${d.wsUrl}/ws/sessions/${session.id}`, d.auth);
    client.send({ type: 'input', data: 'more\n' });
    await client.until(() => client.textsOf('error').length === 1, 'the refusal');
    assert.equal(client.textsOf('error')[0]?.code, 'INPUT_CLOSED');
    await client.close();
    assert.equal(await outputText(session.id), 'first\n');
    await d.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
  });

  test('the MCP send_input tool answers an INPUT_CLOSED error result', async () => {
    const session = await echoThenSleep();
    await closeStdinAfterEcho(session.id);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createCorralMcpServer(new EngineBackend(d.daemon.engine), { version: 'test' });
    const client = new Client({ name: 'input-closed-test', version: '1' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    try {
      const result = (await client.callTool({ name: 'send_input', arguments: { sessionId: session.id, text: 'more\n' } })) as CallToolResult;
      assert.equal(result.isError, true, JSON.stringify(result));
      const first = result.content[0];
      assert.ok(first?.type === 'text' && first.text.includes('INPUT_CLOSED'), JSON.stringify(result.content));
    } finally {
      await client.close();
      await server.close();
    }
    assert.equal(await outputText(session.id), 'first\n');
    await d.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
  });
});
