// Bounded text reads of a real shell session (shell integration's OSC 633 marks with their nonce, the prompt's
// colours) through REST `format=text&limit=` and MCP `read_output` with `maxBytes`: at every `since` no read shows
// any part of a control sequence; the raw view still carries the marks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startInProcessDaemon } from '../../helpers/inProcessDaemon.js';
import { callOk } from '../../helpers/mcpScenarios.js';

interface Read {
  data: string;
  nextOffset: number;
}

/** What only a control sequence carries in this stream: ESC, BEL, the 633 marks and their fields. */
// eslint-disable-next-line no-control-regex
const FRAGMENT = /\x1b|\x07|633;|;P;|Cwd=|;[ABCDE](;|$)/;

test('REST and MCP text reads never show part of a control sequence at any window edge', async () => {
  const daemon = await startInProcessDaemon({ listen: true });
  const transport = new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${daemon.token}` } },
  });
  const client = new Client({ name: 'corral-test', version: '1.0.0' });
  try {
    const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', { profile: 'shell', cwd: daemon.root });
    assert.equal(created.status, 201);
    const id = created.body.id;
    const ran = await daemon.request<{ exitCode: number }>('POST', `/api/v1/sessions/${id}/commands`, {
      command: 'cd /tmp && printf "plain words\\n"; false',
      timeoutMs: 30_000,
    });
    assert.equal(ran.body.exitCode, 1);
    const raw = await daemon.request<Read>('GET', `/api/v1/sessions/${id}/output?since=0&format=raw&encoding=utf8`);
    assert.ok(raw.body.data.includes('\x1b]633;'), 'the raw view carries the shell-integration marks');
    const end = raw.body.nextOffset;
    for (let since = 0; since < end; since++) {
      for (const limit of [7, 100]) {
        const read = await daemon.request<Read>('GET', `/api/v1/sessions/${id}/output?since=${since}&format=text&limit=${limit}`);
        assert.equal(read.status, 200);
        assert.doesNotMatch(read.body.data, FRAGMENT, `REST since ${since} limit ${limit}: ${JSON.stringify(read.body.data)}`);
      }
    }
    await client.connect(transport);
    for (let since = 0; since < end; since += 3) {
      const read = await callOk<Read>(client, 'read_output', { sessionId: id, since, maxBytes: 40 });
      assert.doesNotMatch(read.data, FRAGMENT, `MCP since ${since}: ${JSON.stringify(read.data)}`);
    }
  } finally {
    await client.close();
    await daemon.stop();
    daemon.cleanup();
  }
});
