// Issue 20's remainders with a real etcd and three real nodes (A, B, C): a session's scoped token (CORRAL_TOKEN)
// issued by C works through A's front door exactly as at C (its own session, its input, its WebSocket, its task's
// list; the same refusals), stops at every door when its session ends, and never reaches C itself (C sees the cluster
// token and the token's hash: every byte the other nodes send C passes a recording relay, C's advertised URL); an
// unknown one is refused, and with etcd down one A never saw is ROUTING_UNAVAILABLE while C still takes it. The fleet
// list pages by cursor: every session once, in order, also when C stops answering A halfway (its last-known ones).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort, startFleet, waitFor, type Fleet } from '../helpers/fleetHarness.js';
import { TestSocket, upgradeStatus } from '../helpers/wsTestClient.js';
import type { DaemonHandle } from '../helpers/daemonHarness.js';
import { Corral } from '../../src/client/Corral.js';
import type { NodesReply, SessionPage } from '../../src/protocol/apiReplies.js';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { SseParser, type SseFrame } from '../../src/fleet/fleetEvents.js';

/**
 * What the other nodes send C: a TCP relay on C's advertised port that records every byte it passes on to C's real
 * port, and can be cut (listener and connections) and mended, like a network between nodes.
 */
class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly received: Buffer[] = [];

  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = connect({ host: '127.0.0.1', port: this.target });
      this.sockets.add(inbound).add(outbound);
      inbound.on('data', (chunk: Buffer) => this.received.push(chunk));
      inbound.pipe(outbound).pipe(inbound);
      const drop = (): void => {
        inbound.destroy();
        outbound.destroy();
        this.sockets.delete(inbound);
        this.sockets.delete(outbound);
      };
      inbound.on('error', drop).on('close', drop);
      outbound.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }
}

let fleet: Fleet;
let relay: Relay;

before(async () => {
  const cPort = await freePort();
  relay = new Relay(await freePort(), cPort);
  await relay.open();
  fleet = await startFleet(['A', 'B', 'C'], {
    leaseTtlSeconds: 3,
    pollMs: 300,
    extraArgs: { C: ['--port', String(cPort), '--advertise-url', `http://127.0.0.1:${relay.port}`] },
  });
  await waitFor('every node up', async () => {
    const nodes = await daemon('A').request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.status === 200 && nodes.body.nodes.length === 3 && nodes.body.nodes.every((node) => node.state === 'up') ? true : undefined;
  });
});

after(async () => {
  await relay?.cut();
  await fleet?.stop();
});

function daemon(name: string): DaemonHandle {
  return fleet.node(name).daemon;
}

type Answer = { status: number; body: { error?: { code: string } } & Record<string, unknown> };

/** A request with a session's token (not the daemon's). */
async function asToken(front: DaemonHandle, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(front.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}

/** A session on C with a scoped token, and the token it printed (read by the owner). */
async function tokenSession(taskId: string): Promise<{ session: SessionInfo; token: string }> {
  const made = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', {
    node: 'C', taskId, kind: 'pipe', command: ['/bin/sh', '-c', 'echo "token=$CORRAL_TOKEN"; exec cat'], sandbox: {}, scopedToken: true,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.node, 'C');
  const text = await waitFor('the token printed', async () => {
    const read = await daemon('C').request<OutputRead>('GET', `/api/v1/sessions/${made.body.id}/output?format=text&since=0`);
    return /token=cst_\S+/.test(read.body.data) ? read.body.data : undefined;
  });
  return { session: made.body, token: (/token=(cst_\S+)/.exec(text) as RegExpExecArray)[1] as string };
}

function codeOf(answer: Answer): string {
  return `${answer.status} ${answer.body.error?.code ?? ''}`;
}

test("a scoped token issued by C works through A as at C, never more, and C never sees the token", async () => {
  const { session, token } = await tokenSession('tok-task');
  // Its event stream through A, read while the sessions below are made.
  const events = new AbortController();
  const stream = await fetch(`${daemon('A').url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: events.signal });
  assert.equal(stream.status, 200);
  const frames: SseFrame[] = [];
  const parser = new SseParser();
  const reading = (async () => {
    try {
      for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) frames.push(...parser.push(Buffer.from(chunk).toString('utf8')));
    } catch {
      // Aborted below.
    }
  })();
  // Another session of its task (on C with it), one of no task on C, one on A.
  const sibling = await daemon('B').request<SessionInfo>('POST', '/api/v1/sessions', { taskId: 'tok-task', forceNew: true, kind: 'pipe', command: ['cat'] });
  assert.equal(sibling.status, 201, JSON.stringify(sibling.body));
  assert.equal(sibling.body.node, 'C', 'a task stays on one node');
  const otherOnC = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', { node: 'C', kind: 'pipe', command: ['cat'] });
  const otherOnA = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', { node: 'A', kind: 'pipe', command: ['cat'] });
  assert.equal(otherOnC.status, 201);
  assert.equal(otherOnA.status, 201);
  await waitFor('its task\'s new session in its event stream through A', async () =>
    (frames.some((f) => f.event === 'session.created' && f.data?.includes(sibling.body.id) === true) ? true : undefined));

  // Its own session: read and written through A.
  const own = await asToken(daemon('A'), token, 'GET', `/api/v1/sessions/${session.id}`);
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal(own.body.id, session.id);
  assert.equal(own.body.node, 'C');
  const input = await asToken(daemon('A'), token, 'POST', `/api/v1/sessions/${session.id}/input`, { data: 'typed-through-A\n' });
  assert.equal(input.status, 200, JSON.stringify(input.body));
  await waitFor('the input echoed on C', async () => {
    const read = await daemon('C').request<OutputRead>('GET', `/api/v1/sessions/${session.id}/output?format=text&since=0`);
    return read.body.data.includes('typed-through-A') ? true : undefined;
  });

  // Its WebSocket through A: output and input end to end.
  const ws = await TestSocket.open(`ws://127.0.0.1:${fleet.node('A').port}/ws/sessions/${session.id}?since=0`, { authorization: `Bearer ${token}` });
  await ws.until(() => ws.output.toString('utf8').includes('typed-through-A'), 'the session output through the bridge');
  ws.send({ type: 'input', data: 'typed-over-ws\n' });
  await ws.until(() => ws.output.toString('utf8').includes('typed-over-ws'), 'the WebSocket input echoed');
  await ws.close();

  // Its list: its task's sessions only, the same through A as at C.
  const listA = await asToken(daemon('A'), token, 'GET', '/api/v1/sessions');
  const listC = await asToken(daemon('C'), token, 'GET', '/api/v1/sessions');
  assert.equal(listA.status, 200, JSON.stringify(listA.body));
  const ids = (answer: Answer): string[] => (answer.body as unknown as SessionPage).sessions.map((s) => s.id).sort();
  assert.deepEqual(ids(listA), [session.id, sibling.body.id].sort());
  assert.deepEqual(ids(listA), ids(listC));
  // Its task, by its task route.
  const task = await asToken(daemon('A'), token, 'GET', '/api/v1/tasks/tok-task');
  assert.equal(task.status, 200, JSON.stringify(task.body));

  // Refused as at C, with C's code, for sessions out of its scope wherever they run, and for routes closed to it.
  for (const other of [otherOnC.body.id, otherOnA.body.id]) {
    const throughA = await asToken(daemon('A'), token, 'GET', `/api/v1/sessions/${other}`);
    const atC = await asToken(daemon('C'), token, 'GET', `/api/v1/sessions/${other}`);
    assert.equal(codeOf(throughA), codeOf(atC), `session ${other}`);
    assert.ok(throughA.status === 403 || throughA.status === 404, codeOf(throughA));
    const write = await asToken(daemon('A'), token, 'POST', `/api/v1/sessions/${other}/input`, { data: 'x' });
    assert.equal(codeOf(write), codeOf(await asToken(daemon('C'), token, 'POST', `/api/v1/sessions/${other}/input`, { data: 'x' })));
  }
  const otherTask = await asToken(daemon('A'), token, 'GET', '/api/v1/sessions?taskId=not-mine');
  assert.equal(codeOf(otherTask), codeOf(await asToken(daemon('C'), token, 'GET', '/api/v1/sessions?taskId=not-mine')));
  assert.equal(otherTask.status, 403);
  const stats = await asToken(daemon('A'), token, 'GET', '/api/v1/nodes');
  assert.equal(codeOf(stats), codeOf(await asToken(daemon('C'), token, 'GET', '/api/v1/nodes')));
  assert.equal(stats.status, 403);

  // Its WebSocket to a session out of its scope: refused through A as at C.
  const wsPath = (front: string, id: string): string => `ws://127.0.0.1:${new URL(daemon(front).url).port}/ws/sessions/${id}`;
  const wsThroughA = await upgradeStatus(wsPath('A', otherOnC.body.id), { authorization: `Bearer ${token}` });
  const wsAtC = await upgradeStatus(wsPath('C', otherOnC.body.id), { authorization: `Bearer ${token}` });
  assert.equal(wsThroughA.status, 403, wsThroughA.body);
  assert.equal(wsThroughA.status, wsAtC.status);
  // Its event stream carried its task's sessions only (its refusals above included, which name what it tried).
  events.abort();
  await reading;
  const told = frames.filter((f) => f.data !== undefined).map((f) => JSON.parse(f.data as string) as { sessionId: string; type: string });
  assert.ok(told.some((event) => event.type === 'security.refused'));
  assert.deepEqual(new Set(told.map((event) => event.sessionId)), new Set([session.id, sibling.body.id]));

  // A made-up token of the right shape is nobody's, at the REST door and the WebSocket's.
  const madeUp = `cst_${randomBytes(32).toString('base64url')}`;
  assert.equal(codeOf(await asToken(daemon('A'), madeUp, 'GET', `/api/v1/sessions/${session.id}`)), '401 UNAUTHORIZED');
  assert.equal((await upgradeStatus(`ws://127.0.0.1:${fleet.node('A').port}/ws/sessions/${session.id}`, { authorization: `Bearer ${madeUp}` })).status, 401);

  // What reached C from the other nodes: the cluster token and the token's hash, never the token.
  const wire = relay.text();
  assert.ok(wire.includes(`x-corral-caller: token ${createHash('sha256').update(token).digest('hex')}`), 'C was told the caller by the token\'s hash');
  assert.ok(wire.toLowerCase().includes(`x-corral-cluster-token: ${fleet.clusterToken.toLowerCase()}`), 'with the cluster token');
  assert.ok(!wire.includes(token), 'the token itself never went to C');
  assert.ok(!wire.includes(token.slice(4)), 'not even without its prefix');

  // Its session ends: the token stops at every door, the WebSocket's included.
  const ended = await daemon('B').request('DELETE', `/api/v1/sessions/${session.id}`);
  assert.equal(ended.status, 200, JSON.stringify(ended.body));
  for (const front of ['A', 'B', 'C']) {
    assert.equal(codeOf(await asToken(daemon(front), token, 'GET', `/api/v1/sessions/${session.id}`)), '401 UNAUTHORIZED', `at ${front}`);
    assert.equal(codeOf(await asToken(daemon(front), token, 'GET', '/api/v1/sessions')), '401 UNAUTHORIZED', `its list at ${front}`);
  }
  assert.equal((await upgradeStatus(`ws://127.0.0.1:${fleet.node('A').port}/ws/sessions/${sibling.body.id}`, { authorization: `Bearer ${token}` })).status, 401);
});

test('the fleet list pages by cursor: every session exactly once, newest first, also when a node stops answering halfway', async () => {
  for (const node of ['A', 'B', 'C']) {
    for (let i = 0; i < 4; i++) {
      const made = await daemon('B').request<SessionInfo>('POST', '/api/v1/sessions', { node, kind: 'pipe', command: ['cat'], name: `page-${node}-${i}` });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
  }
  // The whole list in one page (which is also what A knows of C if C stops answering).
  const whole = await daemon('A').request<SessionPage>('GET', '/api/v1/sessions?limit=1000');
  assert.equal(whole.status, 200, JSON.stringify(whole.body));
  assert.equal(whole.body.nextCursor, null);
  const expected = whole.body.sessions.map((s) => s.id);
  assert.ok(expected.length >= 12);
  const onC = new Set(whole.body.sessions.filter((s) => s.node === 'C').map((s) => s.id));

  // Through the typed client, five at a time; C is cut off from A after the first page.
  const api = new Corral({ url: daemon('A').url, token: fleet.token });
  const shown: SessionInfo[] = [];
  let cursor: string | undefined;
  let pages = 0;
  try {
    for (;;) {
      const page = await api.sessions.list({ limit: 5, cursor });
      assert.ok(page.sessions.length <= 5);
      shown.push(...page.sessions);
      pages++;
      if (pages === 1) await relay.cut();
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
      assert.ok(pages < 50, 'the pages end');
    }
  } finally {
    await relay.open();
  }
  assert.equal(pages, Math.ceil(expected.length / 5));
  assert.deepEqual(shown.map((s) => s.id), expected, 'every session once, in the order of the one-page list');
  const lastKnown = shown.slice(5).filter((s) => onC.has(s.id));
  assert.ok(lastKnown.length > 0);
  assert.ok(lastKnown.every((s) => s.reachable === false), 'C\'s sessions after the cut are its last-known ones, said to be unreachable');

  // A malformed cursor: refused before any node is asked, with the code one daemon gives.
  const bad = await daemon('A').request<{ error: { code: string } }>('GET', '/api/v1/sessions?cursor=not-a-cursor');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'BAD_REQUEST');
});

test("etcd down: a token A never saw is ROUTING_UNAVAILABLE there, and still works at its own node", async () => {
  const { session, token } = await tokenSession('tok-outage');
  await fleet.etcd.stop();
  try {
    const throughA = await asToken(daemon('A'), token, 'GET', `/api/v1/sessions/${session.id}`);
    assert.equal(codeOf(throughA), '503 ROUTING_UNAVAILABLE');
    const atC = await asToken(daemon('C'), token, 'GET', `/api/v1/sessions/${session.id}`);
    assert.equal(atC.status, 200, JSON.stringify(atC.body));
  } finally {
    await fleet.etcd.start();
  }
  // Once etcd is back, A finds it.
  await waitFor('the token through A', async () => ((await asToken(daemon('A'), token, 'GET', `/api/v1/sessions/${session.id}`)).status === 200 ? true : undefined));
});
