// A fleet over TLS, as it runs across machines: etcd serves TLS and asks for client certificates, and two nodes serve
// HTTPS/WSS, advertise https:// and check each other against the fleet's CA (--cluster-ca-file). Through A, a session
// on B is created by name, read, listed with its node, and driven over a WebSocket bridged from A's TLS to B's; the
// merged event stream carries B's events. Certificates from a throwaway CA (test/helpers/testCertificates.ts).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Corral, CorralClientError, httpsFetch } from '../../src/client/index.js';
import { becomeSubreaper, ownTree, reapAdoptedOrphans } from '../helpers/holderHarness.js';
import { startFleet, waitFor, type Fleet } from '../helpers/fleetHarness.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/testCertificates.js';
import { TestSocket } from '../helpers/wsTestClient.js';
import type { DaemonHandle } from '../helpers/daemonHarness.js';
import type { NodesReply, SessionPage } from '../../src/protocol/apiReplies.js';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';

let fleet: Fleet;
let certs: TestCertificates;
let baseline: string[] = [];

before(async () => {
  becomeSubreaper();
  baseline = ownTree();
  fleet = await startFleet(['A', 'B'], {
    leaseTtlSeconds: 3,
    pollMs: 300,
    tls: (base) => {
      certs = makeTestCertificates(base);
      return certs;
    },
  });
  await waitFor('both nodes up', async () => {
    const nodes = await front().request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.status === 200 && nodes.body.nodes.length === 2 && nodes.body.nodes.every((node) => node.state === 'up') ? nodes.body : undefined;
  });
});

after(async () => {
  await fleet?.stop();
  await reapAdoptedOrphans(baseline);
});

function front(): DaemonHandle {
  return fleet.node('A').daemon;
}

test('every node is https:// and is listed as such', async () => {
  const nodes = await front().request<NodesReply>('GET', '/api/v1/nodes');
  assert.deepEqual(nodes.body.nodes.map((node) => node.url).sort(), [fleet.node('A').port, fleet.node('B').port].map((port) => `https://127.0.0.1:${port}`).sort());
  assert.match(front().url, /^https:/);
});

test('through A over TLS: a session placed on B by name, its output, the fleet list, and its WebSocket bridged TLS to TLS', async () => {
  const created = await front().request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/cat'], node: 'B' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.node, 'B');
  const id = created.body.id;
  // B really runs it: B's own answer, asked directly.
  const own = await fleet.node('B').daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
  assert.equal(own.status, 200);

  const socket = await TestSocket.open(`${front().url.replace('https:', 'wss:')}/ws/sessions/${id}?since=0`, { authorization: `Bearer ${fleet.token}` }, { ca: certs.ca });
  try {
    socket.send({ type: 'input', data: 'through the tls bridge\n' });
    await socket.until(() => socket.output.toString('utf8').includes('through the tls bridge'), 'the echo through A');
  } finally {
    await socket.close();
  }
  const output = await waitFor('the echo in the output read through A', async () => {
    const read = await front().request<OutputRead>('GET', `/api/v1/sessions/${id}/output?since=0&format=text`);
    return read.status === 200 && read.body.data.includes('through the tls bridge') ? read.body : undefined;
  });
  assert.equal(output.offset, 0);

  const list = await fleet.node('B').daemon.request<SessionPage>('GET', '/api/v1/sessions');
  assert.equal(list.status, 200);
  assert.equal(list.body.sessions.find((session) => session.id === id)?.node, 'B');

  const ended = await front().request('DELETE', `/api/v1/sessions/${id}?force=true`);
  assert.equal(ended.status, 200, JSON.stringify(ended.body));
});

test('the fleet event stream through A carries B\'s events over TLS', async () => {
  const frames: string[] = [];
  const abort = new AbortController();
  const reading = new Promise<void>((resolve, reject) => {
    const outgoing = request(`${front().url}/api/v1/events`, { ca: certs.ca, headers: { authorization: `Bearer ${fleet.token}`, accept: 'text/event-stream' }, signal: abort.signal }, (response) => {
      assert.equal(response.statusCode, 200);
      response.setEncoding('utf8').on('data', (chunk: string) => frames.push(chunk));
      response.on('close', resolve);
    });
    outgoing.on('error', (error) => (abort.signal.aborted ? resolve() : reject(error)));
    outgoing.end();
  });
  const created = await front().request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/sh', '-c', 'echo hi'], node: 'B' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await waitFor('B\'s session.created in A\'s event stream', async () => (frames.join('').includes(created.body.id) ? true : undefined));
  abort.abort();
  await reading;
  await front().request('DELETE', `/api/v1/sessions/${created.body.id}?purge=true&force=true`);
});

test('a node that does not trust the fleet\'s CA cannot reach the others: NODE_UNREACHABLE, never a plain-text fallback', async () => {
  const onB = await front().request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/cat'], node: 'B' });
  assert.equal(onB.status, 201, JSON.stringify(onB.body));
  // C checks the others against a CA that signed none of them (the last --cluster-ca-file given wins).
  const strangers = makeTestCertificates(mkdtempSync(join(fleet.base, 'other-ca-')));
  const c = await fleet.startNode('C', ['--cluster-ca-file', strangers.caFile]);
  const refused = await waitFor('C to know where the session runs', async () => {
    const answer = await c.daemon.request<{ error?: { code: string } }>('GET', `/api/v1/sessions/${onB.body.id}`);
    return answer.status === 404 ? undefined : answer;
  });
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.equal(refused.body.error?.code, 'NODE_UNREACHABLE');
  await front().request('DELETE', `/api/v1/sessions/${onB.body.id}?force=true`);
});

test('MCP over HTTPS at A drives a session on B (the tools call A\'s own TLS front door on loopback), and the typed client takes a CA', async () => {
  const onB = await front().request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/cat'], node: 'B' });
  assert.equal(onB.status, 201, JSON.stringify(onB.body));
  const transport = new StreamableHTTPClientTransport(new URL(`${front().url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${fleet.token}` } },
    fetch: httpsFetch({ ca: certs.ca }),
  });
  const mcp = new Client({ name: 'fleet-tls-test', version: '1.0.0' });
  await mcp.connect(transport);
  try {
    const listed = await mcp.callTool({ name: 'list_sessions', arguments: {} });
    assert.notEqual(listed.isError, true, JSON.stringify(listed.content));
    assert.match(JSON.stringify(listed.structuredContent), new RegExp(onB.body.id));
    const sent = await mcp.callTool({ name: 'send_input', arguments: { sessionId: onB.body.id, text: 'mcp over tls\n' } });
    assert.notEqual(sent.isError, true, JSON.stringify(sent.content));
    await waitFor('the echo read through MCP at A', async () => {
      const read = await mcp.callTool({ name: 'read_output', arguments: { sessionId: onB.body.id, since: 0 } });
      return String((read.structuredContent as { data?: string } | undefined)?.data ?? '').includes('mcp over tls') ? true : undefined;
    });
  } finally {
    await mcp.close();
  }
  // The typed client with the fleet's CA reads the same session through A; without it, Node refuses the certificate.
  const client = new Corral({ url: front().url, token: fleet.token, fetch: httpsFetch({ ca: certs.ca }) });
  assert.equal((await client.sessions.get(onB.body.id)).node, 'B');
  await assert.rejects(new Corral({ url: front().url, token: fleet.token }).sessions.get(onB.body.id), (error: CorralClientError) => error.code === 'DAEMON_UNREACHABLE');
  await front().request('DELETE', `/api/v1/sessions/${onB.body.id}?force=true`);
});
