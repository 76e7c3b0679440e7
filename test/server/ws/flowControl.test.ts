// Flow control and liveness of the session WebSocket: a stalled client never holds back a reader or the
// daemon's memory; the pause rule; dead peers and unfinished handshakes are dropped.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import WebSocket from 'ws';
import { WebSocketFace } from '../../../src/server/ws/wsFace.js';
import { startDaemon } from '../../helpers/daemonHarness.js';
import { TestSocket, WAIT_LIMIT_MS, startInProcess } from '../../helpers/wsTestClient.js';
import { fixture } from '../../helpers/fixtures.js';

const FLOOD = fixture('flood.mjs');
const FLOOD_BYTES = 50 * 1024 * 1024;
/**
 * Peak RSS a second flood may add over the first. Buffering the stalled client's 50 MB would exceed it; one
 * socket window per client (DEFAULT_HIGH_WATER_BYTES) plus heap noise (~20 MB measured) stays below.
 */
const MAX_RSS_GROWTH_BYTES = 40 * 1024 * 1024;

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match?.[1] !== undefined);
  return Number(match[1]) * 1024;
}

/** Polls a condition of in-process state (no daemon round trips) until it holds. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`never happened: ${what}`);
    await sleep(20);
  }
}

/** Runs one 50 MB flood session and reads it to the end with a (non-storing) reader. */
async function floodOnce(
  d: Awaited<ReturnType<typeof startDaemon>>,
  beforeReader: (url: string, headers: Record<string, string>) => Promise<void>,
): Promise<TestSocket> {
  const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', {
    command: ['node', FLOOD, String(FLOOD_BYTES)],
    cwd: d.root,
  });
  assert.equal(created.status, 201);
  const url = `${d.url.replace(/^http/, 'ws')}/ws/sessions/${created.body.id}?since=0`;
  const headers = { authorization: `Bearer ${d.token}` };
  await beforeReader(url, headers);
  const reader = await TestSocket.open(url, headers, { keepData: false });
  let foreign = 0;
  reader.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    for (let i = 8; i < data.length; i++) if (data[i] !== 0x78) foreign++;
  });
  assert.equal((await reader.closed).code, 1000);
  assert.equal(reader.outputBytes, FLOOD_BYTES, 'the reader got every byte');
  assert.equal(foreign, 0, 'and only the flood bytes');
  assert.equal(reader.texts.at(-1)?.type, 'exit');
  return reader;
}

test('a stalled client does not slow a reader of a 50 MB flood, and the daemon does not buffer for it', async () => {
  const d = await startDaemon();
  try {
    // First flood with the reader alone: brings the engine (ring, journal batches, headless screen, heap) to
    // its steady flood footprint (~75 MB measured), so the second flood shows only what the clients cost.
    await floodOnce(d, async () => undefined);
    const warmPeak = statusKb(d.pid, 'VmHWM');
    let stalled: TestSocket | null = null;
    await floodOnce(d, async (url, headers) => {
      stalled = await TestSocket.open(url, headers, { keepData: false });
      stalled.ws.pause(); // stops reading its socket: the kernel buffers fill, then the daemon's window
    });
    const peak = statusKb(d.pid, 'VmHWM');
    assert.ok(peak - warmPeak < MAX_RSS_GROWTH_BYTES, `daemon peak RSS grew ${((peak - warmPeak) / 1e6).toFixed(1)} MB`);
    assert.ok(stalled !== null);
    const held: TestSocket = stalled;
    // The stalled client, resumed, continues from its own cursor: exact bytes (from the journal) or an explicit
    // gap, never a silent jump. The heartbeat may have dropped it meanwhile; both are correct.
    assert.ok(held.outputBytes < FLOOD_BYTES, 'the stalled client was held back');
    held.ws.resume();
    const closed = await held.closed;
    if (closed.code === 1000) {
      assert.equal(held.nextOffset, FLOOD_BYTES);
      assert.equal(held.texts.at(-1)?.type, 'exit');
    }
  } finally {
    await d.stop();
    d.cleanup();
  }
});

test('the session is paused only while every attached client asked for flow=pause and all of them are behind', async () => {
  const face = new WebSocketFace({ limits: { highWaterBytes: 64 * 1024, frameMaxBytes: 16 * 1024 } });
  const d = await startInProcess([face]);
  try {
    const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', {
      command: ['node', FLOOD, String(500 * 1024 * 1024)],
      cwd: d.root,
    });
    const id = created.body.id;
    const server = face.last;
    assert.ok(server !== null);
    const base = `${d.wsUrl}/ws/sessions/${id}`;
    const acking = await TestSocket.open(`${base}?flow=pause`, d.auth, { keepData: false });
    // This client acks only when told to, so its ack window (1 MiB) decides when it is behind.
    acking.send({ type: 'ack', offset: 0 });
    await eventually(() => server.isPaused(id), 'paused behind the only (flow=pause) client');
    const pausedAt = acking.nextOffset ?? 0;
    assert.ok(pausedAt <= 1024 * 1024 + 16 * 1024, `sent ${pausedAt} bytes past an ack of 0`);

    const watcher = await TestSocket.open(base, d.auth, { keepData: false });
    await watcher.until(() => watcher.texts.length > 0, 'state frame');
    assert.equal(server.isPaused(id), false, 'an isolate client needs the session live');
    await watcher.close();
    await eventually(() => server.isPaused(id), 'paused again once the live client left');

    acking.send({ type: 'ack', offset: pausedAt });
    await acking.until(() => (acking.nextOffset ?? 0) > pausedAt, 'more output after the ack');
    await acking.close();
    await eventually(() => !server.isPaused(id), 'resumed when the last client left');
    await d.request('DELETE', `/api/v1/sessions/${id}`);
  } finally {
    await d.stop();
  }
});

test('a peer that stops answering pings is dropped while a live one stays', async () => {
  const face = new WebSocketFace({ heartbeatMs: 200 });
  const d = await startInProcess([face]);
  try {
    const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['bash', '--norc', '--noprofile'], cwd: d.root });
    const url = `${d.wsUrl}/ws/sessions/${created.body.id}`;
    const live = await TestSocket.open(url, d.auth);
    const dead = new WebSocket(url, { headers: d.auth, autoPong: false });
    const deadClosed = new Promise<number>((resolve) => dead.on('close', (code) => resolve(code)));
    await new Promise((resolve) => dead.once('open', resolve));
    assert.equal(face.last?.clientCount, 2);
    assert.equal(await deadClosed, 1006, 'dropped without a closing handshake');
    await eventually(() => face.last?.clientCount === 1, 'server forgot the dead peer');
    assert.equal(live.ws.readyState, WebSocket.OPEN);
    live.send({ type: 'input', data: 'echo alive-$((2+2))\r' });
    await live.until(() => live.output.includes('alive-4'), 'live client still served');
    await live.close();
    await d.request('DELETE', `/api/v1/sessions/${created.body.id}`);
  } finally {
    await d.stop();
  }
});

test('a connection whose upgrade request never finishes is closed by the handshake timeout', async () => {
  const d = await startInProcess([new WebSocketFace({ handshakeTimeoutMs: 300 })]);
  try {
    const { port } = new URL(d.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(`GET /ws/sessions/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n`);
    await closed;
    assert.equal(socket.destroyed, true);
  } finally {
    await d.stop();
  }
});
