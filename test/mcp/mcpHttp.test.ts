// The MCP face over Streamable HTTP at /mcp: the SDK Client against a real daemon process, plus the door (token,
// Origin) and MCP session ids.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { defineToolScenarios } from '../helpers/mcpScenarios.js';

let daemon: DaemonHandle | undefined;
let client: Client | undefined;
const transports = new Map<Client, StreamableHTTPClientTransport>();

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not set up`);
  return value;
}

async function connect(): Promise<Client> {
  const d = need(daemon, 'daemon');
  const transport = new StreamableHTTPClientTransport(new URL(`${d.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${d.token}` } },
  });
  const c = new Client({ name: 'corral-test', version: '1.0.0' });
  await c.connect(transport);
  transports.set(c, transport);
  return c;
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

before(async () => {
  daemon = await startDaemon();
  client = await connect();
});

after(async () => {
  await client?.close();
  if (daemon !== undefined) {
    assert.equal(await daemon.stop(), 0, 'the daemon shuts down cleanly with MCP sessions open');
    daemon.cleanup();
  }
});

defineToolScenarios('http', {
  daemon: () => need(daemon, 'daemon'),
  client: () => need(client, 'client'),
  connect,
  // Closing the transport aborts its in-flight HTTP requests: the daemon sees the socket go away.
  disconnect: (c) => need(transports.get(c), 'transport').close(),
});

test('http: /mcp without the token answers 401 and with a foreign Origin 403', async () => {
  const d = need(daemon, 'daemon');
  const noToken = await fetch(`${d.url}/mcp`, { method: 'POST', headers: mcpHeaders, body: JSON.stringify(initialize) });
  assert.equal(noToken.status, 401);
  const badToken = await fetch(`${d.url}/mcp`, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: 'Bearer wrong' },
    body: JSON.stringify(initialize),
  });
  assert.equal(badToken.status, 401);
  const foreign = await d.request('POST', '/mcp', initialize, { ...mcpHeaders, origin: 'http://evil.example' });
  assert.equal(foreign.status, 403);
  // fetch sets Host itself; node:http sends the one a DNS-rebinding page would.
  const rebound = await new Promise<number | undefined>((resolve, reject) => {
    const body = JSON.stringify(initialize);
    const req = httpRequest(`${d.url}/mcp`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${d.token}`, host: 'evil.example', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(rebound, 403);
});

test('http: MCP session ids carry at least 128 random bits and unknown ones are refused', async () => {
  const d = need(daemon, 'daemon');
  const ids = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${d.url}/mcp`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${d.token}` },
      body: JSON.stringify(initialize),
    });
    assert.equal(response.status, 200);
    await response.text();
    const id = response.headers.get('mcp-session-id') ?? '';
    assert.match(id, /^[A-Za-z0-9_-]{22,}$/);
    ids.add(id);
    const closed = await fetch(`${d.url}/mcp`, { method: 'DELETE', headers: { authorization: `Bearer ${d.token}`, 'mcp-session-id': id } });
    assert.equal(closed.status, 200);
  }
  assert.equal(ids.size, 2);
  const unknown = await fetch(`${d.url}/mcp`, {
    method: 'POST',
    headers: { ...mcpHeaders, authorization: `Bearer ${d.token}`, 'mcp-session-id': 'not-a-session' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  assert.equal(unknown.status, 404);
});
