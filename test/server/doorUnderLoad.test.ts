// Issue 15: a local process with no token cannot crash or hang the daemon. Over real sockets against a spawned
// daemon: a stranger's body is never read, a trickling client is cut, wrong tokens are rate-limited without ever
// refusing the right one, and a daemon with only 256 descriptors survives a flood of 1,000 idle and slowloris
// connections while its owner keeps working and every session keeps running.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { startInProcess } from '../helpers/wsTestClient.js';
import { createSession } from '../helpers/coreSupport.js';
import { identify, isAlive } from '../../src/engine/process/ProcessIdentity.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { HEADERS_TIMEOUT_MS } from '../../src/server/app.js';
import { AUTH_FAILURE_BURST } from '../../src/server/authFailures.js';

/** The descriptor limit the flooded daemon runs under: low enough that 1,000 held connections would exhaust it. */
const FLOOD_NOFILE = 256;
const FLOOD_CONNECTIONS = 1000;
/** Node checks the headers timeout once a second; a loaded 2-core machine adds a little. */
const CUT_SLACK_MS = 3000;

interface HealthReply {
  ok: boolean;
  degraded: boolean;
  details: {
    tasks: { name: string; ok: boolean }[];
    connections: { maxConnections: number; maxUnauthenticated: number; open: number; unauthenticated: number; evicted: number };
    openFilesLimit: number;
  };
}

/** A raw TCP connection to the daemon, never failing the test on the server closing it. */
function open(daemon: DaemonHandle): Promise<Socket> {
  const url = new URL(daemon.url);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    // ECONNRESET/EPIPE: the daemon cut or refused us, which is what several tests want.
    socket.on('error', () => undefined);
  });
}

/** Resolves with everything the server sent once it closes the connection, and how long that took. */
function untilClosed(socket: Socket): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  return new Promise((resolve) => socket.once('close', () => resolve({ text, ms: performance.now() - started })));
}

/** One request on a connection of its own (no keep-alive pool): what a new CLI invocation does. */
function freshRequest(daemon: DaemonHandle, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(daemon.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, agent: false, headers: { host: url.host, ...headers }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

let daemon: DaemonHandle;

before(async () => {
  daemon = await startDaemon();
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
});

test("a stranger's POST is answered 401 without its body being read, and the connection is closed", async () => {
  const socket = await open(daemon);
  const closed = untilClosed(socket);
  // Announces a megabyte and sends none of it: the daemon must not wait for it.
  socket.write(`POST /api/v1/sessions HTTP/1.1\r\nHost: ${new URL(daemon.url).host}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`);
  const { text, ms } = await closed;
  assert.match(text, /^HTTP\/1\.1 401 /);
  assert.match(text, /"code":"UNAUTHORIZED"/);
  assert.match(text, /connection: close/i);
  assert.ok(ms < 2000, `the connection stayed open ${Math.round(ms)} ms after the 401`);
});

test('a client trickling its headers is cut within the headers timeout, with 408 REQUEST_TIMEOUT', async () => {
  const socket = await open(daemon);
  const closed = untilClosed(socket);
  socket.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(daemon.url).host}\r\n`);
  const trickle = setInterval(() => socket.writable && socket.write('X'), 500);
  try {
    const { text, ms } = await closed;
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"code":"REQUEST_TIMEOUT"/);
    assert.ok(ms < HEADERS_TIMEOUT_MS + CUT_SLACK_MS, `held ${Math.round(ms)} ms`);
  } finally {
    clearInterval(trickle);
  }
});

test('a second request trickling in on a keep-alive connection after /healthz is cut too', async () => {
  const socket = await open(daemon);
  const closed = untilClosed(socket);
  const host = new URL(daemon.url).host;
  socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: ${host}\r\n`);
  const trickle = setInterval(() => socket.writable && socket.write('X'), 500);
  try {
    const { text, ms } = await closed;
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.ok(ms < HEADERS_TIMEOUT_MS + CUT_SLACK_MS, `held ${Math.round(ms)} ms`);
  } finally {
    clearInterval(trickle);
  }
});

test('malformed HTTP and oversized headers are answered in the catalog shape before the connection closes', async () => {
  const host = new URL(daemon.url).host;
  const cases: { request: string; status: number; code: string }[] = [
    { request: 'HELLO\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
    { request: `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'HEADERS_TOO_LARGE' },
    { request: `POST /api/v1/sessions HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, status: 400, code: 'BAD_REQUEST' },
  ];
  for (const c of cases) {
    const socket = await open(daemon);
    const closed = untilClosed(socket);
    socket.write(c.request);
    const { text } = await closed;
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${c.status} `), c.request.slice(0, 40));
    assert.match(text, new RegExp(`"code":"${c.code}"`), c.request.slice(0, 40));
  }
});

test('wrong tokens past the burst are answered 429 with Retry-After and counted; the right token is never refused', async () => {
  const wrong = { authorization: 'Bearer wrong-token-of-the-same-shape-000000000' };
  const right = { authorization: `Bearer ${daemon.token}` };
  const statuses: number[] = [];
  let retryAfter: unknown;
  for (let i = 0; i < AUTH_FAILURE_BURST + 5; i++) {
    const reply = await freshRequest(daemon, 'GET', '/api/v1/sessions', wrong);
    statuses.push(reply.status);
    if (reply.status === 429) {
      retryAfter = reply.headers['retry-after'];
      assert.equal((JSON.parse(reply.body) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    }
    // Interleaved: the right token from the same address answers at once, every time.
    const ok = await freshRequest(daemon, 'GET', '/api/v1/sessions', right);
    assert.equal(ok.status, 200, 'the right token was refused while wrong ones were rate-limited');
  }
  assert.ok(statuses.slice(0, AUTH_FAILURE_BURST - 2).every((s) => s === 401), `first answers: ${statuses.join(',')}`);
  assert.equal(statuses.at(-1), 429, `answers: ${statuses.join(',')}`);
  assert.match(String(retryAfter), /^[1-9]\d*$/);
  const metrics = await freshRequest(daemon, 'GET', '/metrics', right);
  assert.match(metrics.body, /corral_auth_failures_total\{outcome="rate_limited"\} [1-9]/);
});

test(`under ${FLOOD_NOFILE} descriptors, ${FLOOD_CONNECTIONS} idle and slowloris connections neither crash the daemon nor lock its owner out; every session survives`, async () => {
  const flooded = await startDaemon({ prefix: ['prlimit', `--nofile=${FLOOD_NOFILE}:${FLOOD_NOFILE}`, '--'] });
  const sockets: Socket[] = [];
  const trickles: NodeJS.Timeout[] = [];
  try {
    const health = async (): Promise<HealthReply> => (await flooded.request<HealthReply>('GET', '/healthz')).body;
    const before = await health();
    assert.equal(before.details.openFilesLimit, FLOOD_NOFILE, 'the daemon did not run under the prlimit');
    assert.ok(before.details.connections.maxConnections < FLOOD_NOFILE);
    const sessions: SessionInfo[] = [
      await createSession(flooded, { command: ['/bin/sleep', '1000'] }),
      await createSession(flooded, { kind: 'pipe', command: ['/bin/sleep', '1000'] }),
      await createSession(flooded, { profile: 'shell' }),
    ];
    const identities = sessions.map((s) => identify(s.pid ?? -1));

    // The owner polls on its keep-alive connection all through the flood; every answer must come, and soon.
    let polling = true;
    const ownerAnswers: number[] = [];
    const owner = (async () => {
      while (polling) {
        const started = performance.now();
        const reply = await flooded.request('GET', '/api/v1/sessions');
        ownerAnswers.push(reply.status === 200 ? performance.now() - started : -reply.status);
        await sleep(100);
      }
    })();

    const host = new URL(flooded.url).host;
    for (let i = 0; i < FLOOD_CONNECTIONS; i++) {
      const socket = await open(flooded);
      sockets.push(socket);
      if (i % 3 === 1) {
        // Slowloris: a request line, then a header byte now and then.
        socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n`);
        trickles.push(setInterval(() => socket.writable && socket.write('X'), 1000));
      } else if (i % 3 === 2) {
        // No token and a body that never comes.
        socket.write(`POST /api/v1/sessions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
      }
      // else: connected and silent.
    }
    // A create needs descriptors (a pty, a pidfd, a journal): the strangers must not have taken them.
    const during = await flooded.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/sleep', '1000'] });
    assert.equal(during.status, 201, `create during the flood: ${JSON.stringify(during.body)}`);
    sessions.push(during.body);
    identities.push(identify(during.body.pid ?? -1));
    await sleep(2000);
    polling = false;
    await owner;

    assert.equal(flooded.child.exitCode, null, `the daemon died: ${flooded.stderr().slice(-2000)}`);
    const refused = ownerAnswers.filter((ms) => ms < 0);
    assert.deepEqual(refused, [], 'the owner was refused during the flood');
    assert.ok(ownerAnswers.length >= 5, `the owner got only ${ownerAnswers.length} answers`);
    assert.ok(Math.max(...ownerAnswers) < 5000, `the slowest owner answer took ${Math.round(Math.max(...ownerAnswers))} ms`);
    // A new connection (a fresh CLI call) gets in too.
    const fresh = await freshRequest(flooded, 'GET', '/api/v1/stats', { authorization: `Bearer ${flooded.token}` });
    assert.equal(fresh.status, 200);

    const after = await health();
    assert.equal(after.degraded, false, JSON.stringify(after.details.tasks));
    assert.ok(after.details.connections.evicted > 0, 'no stranger was evicted: the flood never reached the cap');
    assert.ok(after.details.connections.unauthenticated <= after.details.connections.maxUnauthenticated);
    for (const [i, session] of sessions.entries()) {
      const info = await flooded.request<SessionInfo>('GET', `/api/v1/sessions/${session.id}`);
      assert.notEqual(info.body.state, 'terminated', `session ${i} ended during the flood`);
      const identity = identities[i];
      assert.ok(identity !== undefined && isAlive(identity), `session ${i}'s process is gone`);
    }
    const metrics = await freshRequest(flooded, 'GET', '/metrics', { authorization: `Bearer ${flooded.token}` });
    assert.match(metrics.body, /corral_http_connections_closed_total\{reason="evicted"\} [1-9]/);
    assert.match(metrics.body, /corral_background_task_up\{task="orphan reaping"\} 1/);
  } finally {
    for (const trickle of trickles) clearInterval(trickle);
    for (const socket of sockets) socket.destroy();
    await flooded.stop();
    flooded.cleanup();
  }
});

test('a request arriving while the daemon shuts down is 503 SHUTTING_DOWN in the catalog shape, with Retry-After', async () => {
  const d = await startInProcess([]);
  // A session that ignores SIGTERM keeps the shutdown busy for a moment, with the HTTP server already closing.
  const created = await d.request<SessionInfo>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/sh', '-c', 'trap "" TERM INT; sleep 1000'] });
  assert.equal(created.status, 201);
  const url = new URL(d.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const closed = untilClosed(socket);
  // Headers begun before the shutdown: the connection is busy, so closing the server does not drop it.
  socket.write(`GET /api/v1/stats HTTP/1.1\r\nHost: ${url.host}\r\n`);
  await sleep(100);
  const stopping = d.stop();
  await sleep(100);
  socket.write(`Authorization: Bearer ${d.token}\r\n\r\n`);
  const { text } = await closed;
  await stopping;
  assert.match(text, /^HTTP\/1\.1 503 /);
  assert.match(text, /retry-after: \d+/i);
  assert.match(text, /"code":"SHUTTING_DOWN"/);
});
