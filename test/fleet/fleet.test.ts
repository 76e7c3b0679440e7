// Issue 20 with a real etcd (/usr/bin/etcd on free 127.0.0.1 ports) and three real nodes (A, B, C), each its own
// daemon, data dir and holders: placement by room and by name, one list from any node, a WebSocket through A to a
// session on C byte-exact against C's own output (resume with `since` included; the 50 MiB flood with a stalled second
// client is test/fleet/bridgeFlood.test.ts), kill -9 of C (unreachable within the lease TTL, no new placements there,
// back with the output it produced meanwhile), etcd stopped for 5 s (own sessions served, routing refused with
// ROUTING_UNAVAILABLE, recovery), draining, forgetting, and the door between nodes.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { becomeSubreaper, ownTree, reapAdoptedOrphans } from '../helpers/holderHarness.js';
import { startFleet, waitFor, type Fleet } from '../helpers/fleetHarness.js';
import { TestSocket, upgradeStatus } from '../helpers/wsTestClient.js';
import { spawnSync } from 'node:child_process';
import { corralCommand, REPO_ROOT, type DaemonHandle } from '../helpers/daemonHarness.js';
import { Corral } from '../../src/client/Corral.js';
import type { NodesReply } from '../../src/protocol/apiReplies.js';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { SseParser, type SseFrame } from '../../src/fleet/fleetEvents.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build, stop as stopEsbuild } from 'esbuild';
import { chromium } from 'playwright-core';

/** Short, so a dead node is noticed within seconds (etcd's shortest lease is about 2 s). */
const LEASE_TTL_SECONDS = 3;

let fleet: Fleet;
let baseline: string[] = [];
/** One session per node, made at the start (ids). */
const created: SessionInfo[] = [];

before(async () => {
  // Holders of the node killed below re-parent to us, as they would to a restarted daemon's subreaper; we reap them.
  becomeSubreaper();
  baseline = ownTree();
  fleet = await startFleet(['A', 'B', 'C'], { leaseTtlSeconds: LEASE_TTL_SECONDS, pollMs: 300 });
  for (const name of ['A', 'B', 'C']) await allUp(daemon(name));
});

after(async () => {
  try {
    // Fails when a holder or session process of any node outlived its daemon (the harness kills it first).
    await fleet?.stop();
  } finally {
    await reapAdoptedOrphans(baseline);
  }
});

function daemon(name: string): DaemonHandle {
  return fleet.node(name).daemon;
}

async function allUp(front: DaemonHandle): Promise<void> {
  await waitFor('every node up', async () => {
    const nodes = await front.request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.status === 200 && nodes.body.nodes.length === 3 && nodes.body.nodes.every((node) => node.state === 'up') ? true : undefined;
  });
}

async function info(front: DaemonHandle, id: string): Promise<{ status: number; body: SessionInfo & { error?: { code: string } } }> {
  return front.request('GET', `/api/v1/sessions/${id}`);
}

/** An event stream read as a browser would (frames with data), until closed. */
class EventReader {
  readonly frames: SseFrame[] = [];
  /** The last id seen, as EventSource keeps it (id-only frames included). */
  lastId: string | undefined;
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  constructor(front: DaemonHandle, headers: Record<string, string> = {}) {
    this.done = (async () => {
      try {
        const response = await fetch(`${front.url}/api/v1/events`, { headers: { authorization: `Bearer ${fleet.token}`, ...headers }, signal: this.abort.signal });
        assert.equal(response.status, 200);
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          for (const frame of parser.push(decoder.decode(chunk, { stream: true }))) {
            if (frame.id !== undefined) this.lastId = frame.id;
            if (frame.data !== undefined) this.frames.push(frame);
          }
        }
      } catch {
        // Closed by the test.
      }
    })();
  }

  /** The events (with data) of one type, parsed. */
  of<T = { node?: string; sessionId?: string }>(type: string): T[] {
    return this.frames.filter((frame) => frame.event === type).map((frame) => JSON.parse(frame.data as string) as T);
  }

  async until(check: () => boolean, what: string): Promise<void> {
    await waitFor(what, async () => (check() ? true : undefined));
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

const CHROMIUM = '/usr/bin/chromium';

/**
 * The dashboard of `front` in a real Chromium: every session row and the header of `id` show their node, and
 * `unreachableId`'s say it is unreachable. Skipped (with a note) where Chromium is absent, as the web tests are.
 */
async function dashboardShowsNodes(front: DaemonHandle, ids: { node: string; id: string }[], unreachableId: string): Promise<void> {
  if (!existsSync(CHROMIUM) && process.env.CI === undefined) {
    process.stdout.write(`# ${CHROMIUM} is absent: the dashboard part is skipped\n`);
    return;
  }
  // The bundle the daemon serves, built as `npm run build:web` does.
  await build({ entryPoints: [join(REPO_ROOT, 'src', 'web', 'main.ts')], bundle: true, format: 'esm', target: 'chrome110', minify: true, sourcemap: true, outdir: join(REPO_ROOT, 'dist', 'web'), logLevel: 'warning' });
  // esbuild's service would stay on as a child of this (subreaper) process, which the suite's end must find empty.
  stopEsbuild();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-crash-reporter', '--disable-breakpad'] });
  try {
    const page = await (await browser.newContext()).newPage();
    const link = await front.request<{ url: string }>('POST', '/api/v1/auth/login-links', {});
    assert.equal(link.status, 201);
    await page.goto(link.body.url);
    for (const { node, id } of ids) {
      await page.waitForSelector(`tr[data-session-id="${id}"] .node-badge[data-node="${node}"]`, { timeout: 20_000 });
    }
    await page.waitForSelector(`tr[data-session-id="${unreachableId}"] .node-badge[data-reachable="false"]`, { timeout: 20_000 });
    await page.goto(`${front.url}/#/s/${unreachableId}`);
    const badge = await page.waitForSelector('#session-state .node-badge[data-reachable="false"]', { timeout: 20_000 });
    assert.match((await badge.textContent()) ?? '', /^C · unreachable$/);
  } finally {
    await browser.close();
  }
}

/** A session's raw output from `since` to `until`, read from `from` (paged by nextOffset). */
async function rawOutput(from: DaemonHandle, id: string, since: number, until: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = since;
  while (offset < until) {
    const read = await from.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?since=${offset}&limit=${Math.min(until - offset, 4 * 1024 * 1024)}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.offset, offset, 'no bytes evicted');
    const data = Buffer.from(read.body.data, 'base64');
    if (data.length === 0) throw new Error(`output ends at ${offset}, before ${until}`);
    parts.push(data);
    offset = read.body.nextOffset;
  }
  return Buffer.concat(parts).subarray(0, until - since);
}

test('12 sessions created through A spread over the nodes by room; node: C lands on C; B lists all of them with their nodes', async () => {
  const a = daemon('A');
  for (let i = 0; i < 12; i++) {
    const reply = await a.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'], name: `spread-${i}` });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    created.push(reply.body);
  }
  const perNode = new Map<string, number>();
  for (const session of created) perNode.set(session.node ?? '?', (perNode.get(session.node ?? '?') ?? 0) + 1);
  // Equal room everywhere: the most-room rule spreads them evenly (give or take one the capacity lagged behind).
  for (const name of ['A', 'B', 'C']) {
    const count = perNode.get(name) ?? 0;
    assert.ok(count >= 3 && count <= 5, `node ${name} got ${count} of 12: ${JSON.stringify([...perNode])}`);
  }
  const onC = await a.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'], node: 'C', name: 'on-c' });
  assert.equal(onC.status, 201, JSON.stringify(onC.body));
  assert.equal(onC.body.node, 'C');
  created.push(onC.body);
  const unknown = await a.request<{ error: { code: string } }>('POST', '/api/v1/sessions', { command: ['sh'], node: 'Z' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'NODE_NOT_FOUND');

  const list = await daemon('B').request<{ sessions: SessionInfo[] }>('GET', '/api/v1/sessions?limit=100');
  assert.equal(list.status, 200);
  const listed = new Map(list.body.sessions.map((session) => [session.id, session.node]));
  for (const session of created) assert.equal(listed.get(session.id), session.node, `${session.id} listed with its node`);
  const stats = await daemon('C').request<{ live: number; fleet: { nodes: Record<string, { live: number } | null> } }>('GET', '/api/v1/stats');
  assert.equal(stats.status, 200);
  assert.deepEqual(Object.keys(stats.body.fleet.nodes).sort(), ['A', 'B', 'C']);
  assert.equal(stats.body.fleet.nodes.C?.live, stats.body.live, "C's own stats are among the fleet's");
  // Each is really where it says: its own node answers for it without routing.
  for (const session of created.slice(0, 4)) {
    const own = await info(daemon(session.node as string), session.id);
    assert.equal(own.status, 200);
    assert.equal(own.body.node, session.node);
  }
});

test('a WebSocket through A to a session on C: input, resize, output, then resume with since, byte-exact against C', async () => {
  const session = created.find((s) => s.name === 'on-c') as SessionInfo;
  const a = fleet.node('A');
  const auth = { authorization: `Bearer ${fleet.token}` };
  const url = `ws://127.0.0.1:${a.port}/ws/sessions/${session.id}`;
  const first = await TestSocket.open(url, auth);
  first.send({ type: 'resize', cols: 101, rows: 33 });
  first.send({ type: 'input', data: 'echo "fleet-$((6*7))"\n' });
  await first.until(() => first.output.includes('fleet-42'), 'the echo through the bridge');
  await waitFor('the resize reached C', async () => ((await info(daemon('C'), session.id)).body.cols === 101 ? true : undefined));
  const start = first.firstOffset as number;
  const end = first.nextOffset as number;
  assert.deepEqual(first.output, await rawOutput(daemon('C'), session.id, start, end), 'what the bridge carried is what C recorded');
  await first.close();

  // Output made while nobody is attached, then a resume from where the first socket stopped.
  const input = await daemon('B').request('POST', `/api/v1/sessions/${session.id}/input`, { data: 'echo "away-$((7*8))"\n' });
  assert.equal(input.status, 200, JSON.stringify(input.body));
  const resumed = await TestSocket.open(`${url}?since=${end}`, auth);
  await resumed.until(() => resumed.output.includes('away-56'), 'the output made while detached');
  assert.equal(resumed.firstOffset, end, 'the resume starts where the first socket stopped');
  assert.deepEqual(resumed.output, await rawOutput(daemon('C'), session.id, end, resumed.nextOffset as number));
  await resumed.close();
});

test("A's event stream carries every node's events, each with its node, and resumes with its composite id", async () => {
  const a = daemon('A');
  const reader = new EventReader(a);
  // Every node's starting point is in the id before anything happens, so a resume misses nothing of any node.
  await reader.until(() => ['A', 'B', 'C'].every((name) => reader.lastId?.includes(`${name}=`) === true), 'the starting points of all nodes');
  const made: SessionInfo[] = [];
  for (const node of ['B', 'C']) {
    const reply = await daemon(node).request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'], node, name: `events-${node}` });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    made.push(reply.body);
  }
  await reader.until(() => made.every((s) => reader.of('session.created').some((e) => e.sessionId === s.id)), 'the creates on B and C');
  for (const session of made) {
    const event = reader.of<{ node: string; data: { session: SessionInfo } }>('session.created').find((e) => e.data.session.id === session.id);
    assert.equal(event?.node, session.node, 'the event says its node');
    assert.equal(event?.data.session.node, session.node, 'so does its session');
  }
  const resumeFrom = reader.lastId as string;
  assert.match(resumeFrom, /^fleet:A=[^,]+,B=[^,]+,C=[^,]+$/);
  await reader.close();

  // Events on every node while nobody listens; a resume gets exactly those, once.
  const missed: string[] = [];
  for (const node of ['A', 'B', 'C']) {
    const reply = await daemon(node).request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'], node, name: `missed-${node}` });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    missed.push(reply.body.id);
  }
  const resumed = new EventReader(a, { 'last-event-id': resumeFrom });
  await resumed.until(() => missed.every((id) => resumed.of('session.created').some((e) => e.sessionId === id)), 'the missed creates');
  const createdIds = resumed.of('session.created').map((e) => e.sessionId);
  for (const session of made) assert.ok(!createdIds.includes(session.id), 'nothing seen before comes again');
  assert.equal(new Set(createdIds).size, createdIds.length, 'nothing twice');
  assert.deepEqual(resumed.of('gap'), [], 'nothing lost');
  await resumed.close();
});

test("a task's calls go to its node: creates join it, agent creates, exec and /tasks/:taskId from any front", async () => {
  const first = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'], node: 'C', taskId: 'fleet-task' });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  // Idempotent per task across the fleet: the same taskId from another front is the same session, on C.
  const again = await daemon('B').request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'], taskId: 'fleet-task' });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.id, first.body.id);
  const agent = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions/agent', { agent: 'claude', taskId: 'fleet-task' });
  assert.equal(agent.status, 200, JSON.stringify(agent.body));
  assert.equal(agent.body.id, first.body.id, 'the agent create of a task that runs on C is answered by C');
  const elsewhere = await daemon('A').request<{ error: { code: string } }>('POST', '/api/v1/sessions', { command: ['sh'], taskId: 'fleet-task', node: 'B' });
  assert.equal(elsewhere.status, 409);
  assert.equal(elsewhere.body.error.code, 'CONFLICT');
  const exec = await daemon('B').request<{ sessionId: string; stdout: string }>('POST', '/api/v1/exec', { command: ['sh', '-c', 'echo exec-$((3*4))'], taskId: 'fleet-task' });
  assert.equal(exec.status, 200, JSON.stringify(exec.body));
  assert.equal(exec.body.stdout, 'exec-12\n');
  assert.equal((await info(daemon('C'), exec.body.sessionId)).body.node, 'C', 'the exec ran on C');
  const task = await daemon('A').request<{ sessions: SessionInfo[] }>('GET', '/api/v1/tasks/fleet-task');
  assert.equal(task.status, 200, JSON.stringify(task.body));
  assert.deepEqual(new Set(task.body.sessions.map((s) => s.id)), new Set([first.body.id, exec.body.sessionId]));
  assert.ok(task.body.sessions.every((s) => s.node === 'C'));
  const ended = await daemon('B').request('DELETE', '/api/v1/tasks/fleet-task');
  assert.equal(ended.status, 200, JSON.stringify(ended.body));
  assert.equal((await info(daemon('C'), first.body.id)).body.state, 'terminated', 'DELETE /tasks through B ended it on C');
  // A task no node has started runs where it is asked (agent creates and execs are node-local then).
  const local = await daemon('B').request<{ sessionId: string }>('POST', '/api/v1/exec', { command: ['true'], taskId: 'fleet-task-b' });
  assert.equal(local.status, 200, JSON.stringify(local.body));
  assert.equal((await info(daemon('B'), local.body.sessionId)).body.node, 'B');
});

test("a session's scoped token at its node: its own session, the fleet's event stream confined to it; another node's door sends it there", async () => {
  const made = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', {
    node: 'C', taskId: 'scoped-task', kind: 'pipe', command: ['/bin/sh', '-c', 'echo "token=$CORRAL_TOKEN url=$CORRAL_URL"; exec sleep 1000'], sandbox: {}, scopedToken: true,
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const text = await waitFor('the token printed', async () => {
    const read = await daemon('A').request<OutputRead>('GET', `/api/v1/sessions/${made.body.id}/output?format=text&since=0`);
    return /token=\S+ url=\S+/.test(read.body.data) ? read.body.data : undefined;
  });
  const token = (/token=(\S+)/.exec(text) as RegExpExecArray)[1] as string;
  const url = (/url=(\S+)/.exec(text) as RegExpExecArray)[1] as string;
  const asSession = { authorization: `Bearer ${token}` };
  const own = await fetch(`${url}/api/v1/sessions/${made.body.id}`, { headers: asSession });
  assert.equal(own.status, 200, 'its CORRAL_URL is a door that knows its token');
  const other = created.find((s) => s.node === 'B') as SessionInfo;
  assert.equal((await fetch(`${url}/api/v1/sessions/${other.id}`, { headers: asSession })).status, 403, 'another session, though routed elsewhere, is out of scope');
  // Another node's front door finds it through etcd and sends it to C (test/fleet/fleetScopedTokens.test.ts).
  assert.equal((await fetch(`${daemon('A').url}/api/v1/sessions/${made.body.id}`, { headers: asSession })).status, 200);
  // Its event stream, fanned out to every node as this caller: its own session's events, no node reported down.
  const controller = new AbortController();
  const response = await fetch(`${url}/api/v1/events`, { headers: asSession, signal: controller.signal });
  assert.equal(response.status, 200);
  const parser = new SseParser();
  const frames: SseFrame[] = [];
  const reading = (async () => {
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) frames.push(...parser.push(Buffer.from(chunk).toString('utf8')));
    } catch {
      // Aborted below.
    }
  })();
  await waitFor('every node read', async () => (['A', 'B', 'C'].every((n) => frames.some((f) => f.id?.includes(`${n}=`) === true)) ? true : undefined));
  const input = await daemon('C').request('DELETE', `/api/v1/sessions/${made.body.id}`);
  assert.equal(input.status, 200, JSON.stringify(input.body));
  await daemon('B').request('POST', '/api/v1/sessions', { command: ['true'], kind: 'pipe', node: 'B' });
  await waitFor('its exit in the stream', async () => (frames.some((f) => f.event === 'session.exited') ? true : undefined));
  controller.abort();
  await reading;
  const events = frames.filter((f) => f.data !== undefined);
  assert.deepEqual(events.filter((f) => f.event.startsWith('node.')), [], 'no node reported unreachable');
  for (const frame of events) assert.equal((JSON.parse(frame.data as string) as { sessionId: string }).sessionId, made.body.id, 'only its own session');
});

test('kill -9 of C: its sessions unreachable from A and B within the TTL, no placements there; back after a restart with the output made meanwhile', async () => {
  const ticker = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', {
    node: 'C',
    command: ['sh', '-c', 'while :; do echo "tick $(date +%s%N)"; sleep 0.1; done'],
    name: 'ticker',
  });
  assert.equal(ticker.status, 201, JSON.stringify(ticker.body));
  const id = ticker.body.id;
  // Both fronts have listed C's sessions, as a dashboard would.
  for (const front of ['A', 'B']) assert.equal((await daemon(front).request('GET', '/api/v1/sessions')).status, 200);
  const events = new EventReader(daemon('A'));
  await events.until(() => events.lastId?.includes('C=') === true, "A's stream reads C");
  await fleet.node('C').daemon.crash();
  const downAt = Date.now();
  for (const front of ['A', 'B']) {
    const seen = await waitFor(`${front} sees C's session unreachable`, async () => {
      const got = await info(daemon(front), id);
      return got.status === 200 && got.body.reachable === false ? got.body : undefined;
    });
    assert.equal(seen.node, 'C');
    assert.notEqual(seen.state, 'terminated', 'the state stays the last one known');
  }
  const nodes = await daemon('B').request<NodesReply>('GET', '/api/v1/nodes');
  assert.equal(nodes.body.nodes.find((node) => node.name === 'C')?.state, 'unreachable');
  const input = await daemon('A').request<{ error: { code: string } }>('POST', `/api/v1/sessions/${id}/input`, { data: 'x' });
  assert.equal(input.status, 503);
  assert.equal(input.body.error.code, 'NODE_UNREACHABLE');
  const ws = await upgradeStatus(`ws://127.0.0.1:${fleet.node('A').port}/ws/sessions/${id}`, { authorization: `Bearer ${fleet.token}` });
  assert.equal(ws.status, 503);
  const list = await daemon('A').request<{ sessions: SessionInfo[] }>('GET', '/api/v1/sessions?limit=100');
  assert.equal(list.body.sessions.find((session) => session.id === id)?.reachable, false);
  for (let i = 0; i < 4; i++) {
    const placed = await daemon('B').request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'] });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.notEqual(placed.body.node, 'C', 'no placement on an unreachable node');
  }
  const named = await daemon('B').request<{ error: { code: string } }>('POST', '/api/v1/sessions', { command: ['sh'], node: 'C' });
  assert.equal(named.body.error.code, 'NODE_UNREACHABLE');
  // The dashboard of A says where each session runs, and that C's do not answer (the ticker runs on meanwhile).
  const onA = created.find((s) => s.node === 'A') as SessionInfo;
  const onB = created.find((s) => s.node === 'B') as SessionInfo;
  await dashboardShowsNodes(daemon('A'), [{ node: 'A', id: onA.id }, { node: 'B', id: onB.id }, { node: 'C', id }], id);
  // Let the ticker run a while with no daemon: its holder keeps it, and its output.
  await sleep(1000);
  const restartAt = Date.now();
  await fleet.startNode('C');
  const back = await waitFor('C back, seen from A', async () => {
    const got = await info(daemon('A'), id);
    return got.status === 200 && got.body.reachable === undefined ? got.body : undefined;
  });
  assert.equal(back.state === 'terminated', false);
  await events.until(() => events.of('node.reachable').some((e) => e.node === 'C'), 'the stream says C is back');
  assert.deepEqual(events.of('node.unreachable').map((e) => e.node), ['C'], 'C announced unreachable, once');
  assert.ok(events.frames.findIndex((f) => f.event === 'node.unreachable') < events.frames.findIndex((f) => f.event === 'node.reachable'));
  await events.close();
  const text = await daemon('A').request<OutputRead>('GET', `/api/v1/sessions/${id}/output?format=text&since=0`);
  const stamps = [...text.body.data.matchAll(/tick (\d+)/g)].map((m) => Number(BigInt(m[1] as string) / 1_000_000n));
  assert.ok(stamps.some((at) => at > downAt + 200 && at < restartAt), 'output made while C was down is there');
  await allUp(daemon('A'));
});

test('etcd stopped for 5 s: each node serves its own sessions, routing answers ROUTING_UNAVAILABLE, and everything recovers', async () => {
  const onA = created.find((s) => s.node === 'A') as SessionInfo;
  const onC = created.find((s) => s.node === 'C') as SessionInfo;
  await fleet.etcd.stop();
  const stoppedAt = Date.now();
  const refused = await waitFor('A notices etcd is gone', async () => {
    const got = await daemon('A').request<{ error: { code: string } }>('GET', '/api/v1/nodes');
    return got.status === 503 ? got.body : undefined;
  });
  assert.equal(refused.error.code, 'ROUTING_UNAVAILABLE');
  // Each node notices on its own tick: B may still be routing a moment after A stopped.
  await waitFor('B notices etcd is gone', async () => ((await daemon('B').request('GET', '/api/v1/nodes')).status === 503 ? true : undefined));
  const own = await daemon('A').request('POST', `/api/v1/sessions/${onA.id}/input`, { data: 'echo "own-$((5*5))"\n' });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  const waited = await daemon('A').request<{ matched: boolean }>('POST', `/api/v1/sessions/${onA.id}/wait`, { pattern: 'own-25', since: 0, timeoutMs: 20_000 });
  assert.equal(waited.body.matched, true);
  const elsewhere = await daemon('A').request<{ error: { code: string } }>('GET', `/api/v1/sessions/${onC.id}`);
  assert.equal(elsewhere.status, 503);
  assert.equal(elsewhere.body.error.code, 'ROUTING_UNAVAILABLE');
  const create = await daemon('B').request<{ error: { code: string } }>('POST', '/api/v1/sessions', { command: ['sh'] });
  assert.equal(create.status, 503);
  assert.equal(create.body.error.code, 'ROUTING_UNAVAILABLE');
  const direct = await daemon('C').request('GET', `/api/v1/sessions/${onC.id}/output?since=0`);
  assert.equal(direct.status, 200, 'C serves its own session');
  await sleep(Math.max(0, 5000 - (Date.now() - stoppedAt)));
  await fleet.etcd.start();
  for (const name of ['A', 'B', 'C']) await allUp(daemon(name));
  const routed = await waitFor('A routes to C again', async () => {
    const got = await info(daemon('A'), onC.id);
    return got.status === 200 ? got.body : undefined;
  });
  assert.equal(routed.node, 'C');
  const again = await daemon('B').request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'] });
  assert.equal(again.status, 201, JSON.stringify(again.body));
});

test('the door between nodes: the client token works at any front; no or a wrong cluster token, or a forged caller, gets nothing', async () => {
  const onC = created.find((s) => s.node === 'C') as SessionInfo;
  const c = fleet.node('C');
  const path = `/api/v1/sessions/${onC.id}`;
  const bare = async (headers: Record<string, string>): Promise<number> => (await fetch(`${c.url}${path}`, { headers })).status;
  assert.equal((await info(daemon('B'), onC.id)).status, 200, 'the client token at another front door');
  assert.equal(await bare({}), 401, 'no token');
  assert.equal(await bare({ 'x-corral-caller': 'owner' }), 401, 'a caller with no cluster token');
  assert.equal(await bare({ authorization: `Bearer ${fleet.token}`, 'x-corral-caller': 'owner' }), 401, 'a client naming a caller is refused');
  assert.equal(await bare({ 'x-corral-cluster-token': fleet.token }), 401, 'the client token is not the cluster token');
  assert.equal(await bare({ 'x-corral-cluster-token': 'x'.repeat(43) }), 401, 'a wrong cluster token');
  assert.equal(await bare({ 'x-corral-cluster-token': fleet.clusterToken }), 200, 'a node with the cluster token');
  const forged = await upgradeStatus(`ws://127.0.0.1:${c.port}/ws/sessions/${onC.id}`, { authorization: `Bearer ${fleet.token}`, 'x-corral-caller': 'owner' });
  assert.equal(forged.status, 401);
  const noToken = await upgradeStatus(`ws://127.0.0.1:${fleet.node('A').port}/ws/sessions/${onC.id}`, {});
  assert.equal(noToken.status, 401, 'the bridge checks the client first');
});

test('drain stops placements on a node and shows what still runs there; forget ends an unreachable node\'s sessions as lost', async () => {
  const drained = await daemon('A').request<{ node: { state: string }; sessions: SessionInfo[] }>('POST', '/api/v1/nodes/B/drain', {});
  assert.equal(drained.status, 200, JSON.stringify(drained.body));
  assert.equal(drained.body.node.state, 'draining');
  assert.ok(drained.body.sessions.length > 0 && drained.body.sessions.every((s) => s.node === 'B'));
  await waitFor('C sees B draining', async () => {
    const nodes = await daemon('C').request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.body.nodes.find((node) => node.name === 'B')?.state === 'draining' ? true : undefined;
  });
  for (let i = 0; i < 3; i++) {
    const placed = await daemon('C').request<SessionInfo>('POST', '/api/v1/sessions', { command: ['sh'] });
    assert.equal(placed.status, 201);
    assert.notEqual(placed.body.node, 'B', 'no placement on a draining node');
  }
  assert.equal((await daemon('A').request('POST', '/api/v1/nodes/B/drain', { draining: false })).status, 200);

  const refused = await daemon('A').request<{ error: { code: string } }>('POST', '/api/v1/nodes/C/forget');
  assert.equal(refused.body.error.code, 'CONFLICT', 'a node that is up cannot be forgotten');
  const onC = created.filter((s) => s.node === 'C');
  await fleet.node('C').daemon.crash();
  await waitFor('C unreachable', async () => {
    const nodes = await daemon('A').request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.body.nodes.find((node) => node.name === 'C')?.state === 'unreachable' ? true : undefined;
  });
  const forgot = await daemon('A').request<{ lost: SessionInfo[] }>('POST', '/api/v1/nodes/C/forget');
  assert.equal(forgot.status, 200, JSON.stringify(forgot.body));
  for (const session of onC) {
    const lost = forgot.body.lost.find((s) => s.id === session.id);
    assert.equal(lost?.state, 'terminated');
    assert.equal(lost?.exit?.reason, 'lost');
    // B learns of the forget through etcd, a moment later.
    await waitFor(`B shows ${session.id} lost`, async () => ((await info(daemon('B'), session.id)).body.exit?.reason === 'lost' ? true : undefined));
  }
  await waitFor('B no longer lists C', async () => {
    const nodes = await daemon('B').request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.body.nodes.some((node) => node.name === 'C') ? undefined : true;
  });
  // C's holders still run its sessions: a restart on its data dir rejoins, and the fleet's stop ends them.
  await fleet.startNode('C');
});

test('the typed client and `corral node` see the fleet through any node; fleet flags without --cluster are a usage error', async () => {
  const api = new Corral({ url: daemon('B').url, token: fleet.token });
  await waitFor('C rejoined', async () => ((await api.nodes.list()).find((node) => node.name === 'C')?.state === 'up' ? true : undefined));
  const drained = await api.nodes.drain('C');
  assert.equal(drained.node.state, 'draining');
  const { file, args } = corralCommand(false);
  const env = { ...process.env, CORRAL_URL: daemon('A').url, CORRAL_TOKEN: fleet.token };
  const listed = spawnSync(file, [...args, 'node', 'ls', '--json'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const nodes = (JSON.parse(listed.stdout) as NodesReply).nodes;
  assert.deepEqual(nodes.map((node) => node.name), ['A', 'B', 'C']);
  const undone = spawnSync(file, [...args, 'node', 'drain', 'C', '--undo'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  assert.equal(undone.status, 0, undone.stderr);
  assert.match(undone.stdout, /^C +up /);
  const stray = spawnSync(file, [...args, 'serve', '--node-name', 'X', '--port', '0'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  assert.equal(stray.status, 2);
  assert.match(stray.stderr, /--node-name needs --cluster/);
});
