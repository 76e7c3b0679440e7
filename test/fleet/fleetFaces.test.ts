// Issue 20's MCP and webhook faces for the whole fleet, with a real etcd and three real nodes (A, B, C): an MCP
// client (the SDK over Streamable HTTP) at A lists, reads and drives a session on C, its creates are placed like REST
// creates (a drained A gets none; `node: C` lands on C), and a session's scoped token stays confined; a webhook made
// at A gets the events of sessions on B and C from a real receiver on 127.0.0.1, each once, is listed at B, deleted
// at C, and then gets nothing more.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFleet, waitFor, type Fleet } from '../helpers/fleetHarness.js';
import type { DaemonHandle } from '../helpers/daemonHarness.js';
import type { NodesReply } from '../../src/protocol/apiReplies.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import type { HubEvent } from '../../src/protocol/events.js';
import { verifySignature } from '../../src/server/webhooks/webhookSignature.js';

let fleet: Fleet;

before(async () => {
  fleet = await startFleet(['A', 'B', 'C'], { leaseTtlSeconds: 3, pollMs: 300 });
  await waitFor('every node up', async () => {
    const nodes = await daemon('A').request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.status === 200 && nodes.body.nodes.length === 3 && nodes.body.nodes.every((node) => node.state === 'up') ? true : undefined;
  });
});

after(async () => {
  await fleet?.stop();
});

function daemon(name: string): DaemonHandle {
  return fleet.node(name).daemon;
}

async function create(front: DaemonHandle, body: Record<string, unknown>): Promise<SessionInfo> {
  const answer = await front.request<SessionInfo>('POST', '/api/v1/sessions', body);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

async function mcpClient(front: DaemonHandle, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${front.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'fleet-faces-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

interface ToolAnswer {
  isError: boolean;
  text: string;
  structured: Record<string, unknown>;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text?: string }[];
  return { isError: result.isError === true, text: content.map((part) => part.text ?? '').join(''), structured: (result.structuredContent ?? {}) as Record<string, unknown> };
}

type Summary = { id: string; node?: string; taskId: string | null };

async function readAll(client: Client, sessionId: string): Promise<string> {
  const answer = await call(client, 'read_output', { sessionId, since: 0 });
  assert.equal(answer.isError, false, answer.text);
  return answer.structured.data as string;
}

test('MCP at A answers for the fleet: a session on C listed, read and driven; creates placed like REST; a scoped token confined', async () => {
  const a = daemon('A');
  const onC = await create(a, { node: 'C', kind: 'pipe', command: ['/bin/sh', '-c', 'echo hello-from-c; read line; echo "got:$line"; exec sleep 1000'] });
  assert.equal(onC.node, 'C');
  const mcp = await mcpClient(a, fleet.token);
  try {
    const listed = await call(mcp, 'list_sessions', {});
    assert.equal(listed.isError, false, listed.text);
    const row = (listed.structured.sessions as Summary[]).find((session) => session.id === onC.id);
    assert.equal(row?.node, 'C', `A's MCP list shows C's session with its node: ${listed.text}`);

    await waitFor('C\'s output through MCP at A', async () => ((await readAll(mcp, onC.id)).includes('hello-from-c') ? true : undefined));
    const sent = await call(mcp, 'send_input', { sessionId: onC.id, text: 'ping\n' });
    assert.equal(sent.isError, false, sent.text);
    await waitFor('the input\'s answer through MCP at A', async () => ((await readAll(mcp, onC.id)).includes('got:ping') ? true : undefined));
    // The same bytes as C's own REST output.
    const own = await daemon('C').request<{ data: string }>('GET', `/api/v1/sessions/${onC.id}/output?since=0&encoding=utf8&format=raw`);
    assert.equal(own.status, 200);
    assert.equal(await readAll(mcp, onC.id), own.body.data);

    // Named: lands there.
    const named = await call(mcp, 'create_session', { kind: 'pipe', command: ['/bin/sleep', '1000'], node: 'C' });
    assert.equal(named.isError, false, named.text);
    assert.equal((named.structured.session as Summary).node, 'C');
    // Placed: with A draining, a create through A's MCP goes elsewhere (an in-process create would have stayed on A).
    assert.equal((await a.request('POST', '/api/v1/nodes/A/drain', { draining: true })).status, 200);
    try {
      const placed = await call(mcp, 'create_session', { kind: 'pipe', command: ['/bin/sleep', '1000'] });
      assert.equal(placed.isError, false, placed.text);
      const placedOn = (placed.structured.session as Summary).node;
      assert.ok(placedOn === 'B' || placedOn === 'C', `placed by room away from the draining A: ${placed.text}`);
      const seen = await daemon('B').request<SessionInfo>('GET', `/api/v1/sessions/${(placed.structured.session as Summary).id}`);
      assert.equal(seen.body.node, placedOn, 'the directory knows where it went');
    } finally {
      assert.equal((await a.request('POST', '/api/v1/nodes/A/drain', { draining: false })).status, 200);
    }
  } finally {
    await mcp.close();
  }

  // A session on A with a scoped token, whose MCP calls at A reach its own task only, wherever the others run.
  const scoped = await create(a, {
    node: 'A',
    taskId: 'task-scoped',
    kind: 'pipe',
    scopedToken: true,
    command: ['/bin/sh', '-c', 'echo "token=$CORRAL_TOKEN"; exec sleep 1000'],
  });
  const token = await waitFor('the scoped token', async () => {
    const output = await a.request<{ data: string }>('GET', `/api/v1/sessions/${scoped.id}/output?since=0&encoding=utf8`);
    return /token=(cst_\S+)/.exec(output.body.data ?? '')?.[1];
  });
  const confined = await mcpClient(a, token);
  try {
    const list = await call(confined, 'list_sessions', {});
    assert.equal(list.isError, false, list.text);
    assert.deepEqual((list.structured.sessions as Summary[]).map((session) => session.id), [scoped.id], 'its own task only');
    assert.match(await readAll(confined, scoped.id), /token=cst_/);
    const theirs = await call(confined, 'read_output', { sessionId: onC.id, since: 0 });
    assert.equal(theirs.isError, true);
    assert.match(theirs.text, /TOKEN_SCOPE/);
    const input = await call(confined, 'send_input', { sessionId: onC.id, text: 'x\n' });
    assert.match(input.text, /TOKEN_SCOPE/);
    // Its create joins its task, on its node (as REST confines it).
    const own = await call(confined, 'create_session', { kind: 'pipe', command: ['/bin/sleep', '1000'], forceNew: true });
    assert.equal(own.isError, false, own.text);
    assert.equal((own.structured.session as Summary).taskId, 'task-scoped');
  } finally {
    await confined.close();
  }
});

/** A webhook receiver on 127.0.0.1: every delivery, by path. */
class Receiver {
  readonly deliveries: { path: string; event: HubEvent; body: string; headers: Record<string, string | string[] | undefined> }[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.deliveries.push({ path: request.url ?? '/', event: JSON.parse(body) as HubEvent, body, headers: request.headers });
      response.writeHead(204).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  of(path: string, type?: string): HubEvent[] {
    return this.deliveries.filter((d) => d.path === path && (type === undefined || d.event.type === type)).map((d) => d.event);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function listedAt(front: DaemonHandle, id: string): Promise<boolean> {
  const list = await front.request<{ webhooks: { id: string }[] }>('GET', '/api/v1/webhooks');
  assert.equal(list.status, 200);
  return list.body.webhooks.some((webhook) => webhook.id === id);
}

test('a webhook made at A gets the events of sessions on B and C once each, is listed at B, deleted at C, then silent', async () => {
  const receiver = new Receiver();
  const base = await receiver.start();
  try {
    const made = await daemon('A').request<{ id: string; secret: string }>('POST', '/api/v1/webhooks', { url: `${base}/first`, events: ['session.created', 'session.exited'] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const { id, secret } = made.body;
    for (const name of ['A', 'B', 'C']) await waitFor(`the webhook listed at ${name}`, async () => ((await listedAt(daemon(name), id)) ? true : undefined));

    const sessions = [
      await create(daemon('A'), { node: 'B', kind: 'pipe', command: ['/bin/sh', '-c', 'echo on-b'] }),
      await create(daemon('A'), { node: 'C', kind: 'pipe', command: ['/bin/sh', '-c', 'echo on-c'] }),
    ];
    // A later session on every node: each node sends its events in order, so once these came, any repeat of the
    // first two sessions' events (a node sending another node's) would have come before them.
    const markers = await Promise.all(['A', 'B', 'C'].map((node) => create(daemon('A'), { node, kind: 'pipe', command: ['/bin/true'] })));
    await waitFor('every session\'s exit delivered', async () =>
      [...sessions, ...markers].every((session) => receiver.of('/first', 'session.exited').some((event) => event.sessionId === session.id)) ? true : undefined,
    );
    for (const [session, node] of [[sessions[0], 'B'], [sessions[1], 'C']] as const) {
      for (const type of ['session.created', 'session.exited']) {
        const got = receiver.of('/first', type).filter((event) => event.sessionId === session?.id);
        assert.equal(got.length, 1, `${type} of the session on ${node} delivered once: ${JSON.stringify(got)}`);
        assert.equal(got[0]?.node, node, 'each event says its node');
      }
    }
    const ids = receiver.of('/first').map((event) => event.id);
    assert.equal(new Set(ids).size, ids.length, 'no event delivered twice');
    // Signed with the secret made at A, by the node the session ran on.
    for (const delivery of receiver.deliveries) {
      const timestamp = Number(delivery.headers['x-corral-timestamp']);
      assert.ok(verifySignature(secret, timestamp, delivery.body, String(delivery.headers['x-corral-signature'])), 'a valid signature');
    }

    // Each node's attempts, merged at any node.
    const deliveries = await daemon('B').request<{ deliveries: { eventId: string; node: string; status: number }[] }>('GET', `/api/v1/webhooks/${id}/deliveries`);
    assert.equal(deliveries.status, 200);
    const nodes = new Set(deliveries.body.deliveries.map((delivery) => delivery.node));
    assert.ok(nodes.has('B') && nodes.has('C'), `attempts recorded at B and C: ${JSON.stringify([...nodes])}`);

    // A second subscription, made at B: after the first is deleted at C it shows that events still go out.
    const control = await daemon('B').request<{ id: string }>('POST', '/api/v1/webhooks', { url: `${base}/control`, events: ['session.created'] });
    assert.equal(control.status, 201);
    assert.equal((await daemon('C').request('DELETE', `/api/v1/webhooks/${id}`)).status, 200);
    for (const name of ['A', 'B', 'C']) {
      await waitFor(`the webhook gone at ${name} and the control there`, async () => (!(await listedAt(daemon(name), id)) && (await listedAt(daemon(name), control.body.id)) ? true : undefined));
    }
    const before = receiver.of('/first').length;
    const later = await Promise.all(['A', 'B', 'C'].map((node) => create(daemon('A'), { node, kind: 'pipe', command: ['/bin/true'] })));
    await waitFor('the control got the later sessions', async () =>
      later.every((session) => receiver.of('/control').some((event) => event.sessionId === session.id)) ? true : undefined,
    );
    assert.equal(receiver.of('/first').length, before, 'nothing more for the deleted webhook');
    assert.equal((await daemon('A').request('GET', `/api/v1/webhooks/${id}/deliveries`)).status, 404);
  } finally {
    await receiver.close();
  }
});
