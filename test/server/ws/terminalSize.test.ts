// Terminal size across viewers (tmux's policy): the smallest among attached clients that sent a size; a client that
// never sends one (a read-only viewer, a grid tile) does not vote; a client leaving re-counts; `take: true` wins
// until its client leaves; a REST resize applies at once; every client is told the real size.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocketFace } from '../../../src/server/ws/wsFace.js';
import { EventsFace } from '../../../src/server/events/eventsFace.js';
import { TestSocket, startInProcess, type InProcessDaemon } from '../../helpers/wsTestClient.js';

interface Info {
  id: string;
  cols: number;
  rows: number;
}

async function size(d: InProcessDaemon, id: string): Promise<string> {
  const { body } = await d.request<Info>('GET', `/api/v1/sessions/${id}`);
  return `${body.cols}x${body.rows}`;
}

/** Resolves once `socket` has been told the size `expected` (its latest size frame). */
function told(socket: TestSocket, expected: string): Promise<void> {
  return socket.until(() => {
    const frames = socket.textsOf('size');
    const last = frames[frames.length - 1];
    return last !== undefined && `${last.cols}x${last.rows}` === expected;
  }, `a size frame ${expected}`);
}

test('the smallest voting client sets the size; watchers do not vote; leaving re-counts; take wins; REST applies', async () => {
  const d = await startInProcess([new WebSocketFace(), new EventsFace()]);
  try {
    const created = await d.request<Info>('POST', '/api/v1/sessions', { command: ['cat'], cwd: d.root, cols: 120, rows: 40 });
    const id = created.body.id;
    const open = (query = ''): Promise<TestSocket> => TestSocket.open(`${d.wsUrl}/ws/sessions/${id}${query}`, d.auth);
    const desk = await open();
    const watcher = await open('?mode=read-only');
    const quiet = await open(); // writable, but never sends a size: no vote either
    desk.send({ type: 'resize', cols: 100, rows: 30 });
    await told(watcher, '100x30');
    assert.equal(await size(d, id), '100x30');

    const phone = await open();
    phone.send({ type: 'resize', cols: 45, rows: 20 });
    await told(desk, '45x20');
    await told(watcher, '45x20');
    assert.equal(await size(d, id), '45x20', 'the smallest client wins');

    await phone.close();
    await told(desk, '100x30');
    assert.equal(await size(d, id), '100x30', 'the phone left: the desk is the smallest again');

    const big = await open();
    big.send({ type: 'resize', cols: 200, rows: 50, take: true });
    await told(desk, '200x50');
    desk.send({ type: 'resize', cols: 80, rows: 24 });
    // Frames of one socket are handled in order: once a bad frame after it is refused, the vote was counted.
    desk.send({ type: 'bogus' });
    await desk.until(() => desk.textsOf('error').length > 0, 'the bad frame refused');
    assert.equal(await size(d, id), '200x50', 'the taken size holds over a smaller vote');
    await big.close();
    await told(watcher, '80x24');
    assert.equal(await size(d, id), '80x24', 'the taker left: the smallest vote again');

    const rest = await d.request('POST', `/api/v1/sessions/${id}/resize`, { cols: 132, rows: 43 });
    assert.equal(rest.status, 200);
    await told(desk, '132x43');
    await told(quiet, '132x43');
    assert.equal(await size(d, id), '132x43');

    await Promise.all([desk.close(), watcher.close(), quiet.close()]);
    await d.request('DELETE', `/api/v1/sessions/${id}?force=true`);
  } finally {
    await d.stop();
  }
});

test('a resize of a pipe session is refused on the socket, as before', async () => {
  const d = await startInProcess([new WebSocketFace(), new EventsFace()]);
  try {
    const created = await d.request<Info>('POST', '/api/v1/sessions', { command: ['cat'], kind: 'pipe', cwd: d.root });
    const socket = await TestSocket.open(`${d.wsUrl}/ws/sessions/${created.body.id}`, d.auth);
    socket.send({ type: 'resize', cols: 90, rows: 30 });
    await socket.until(() => socket.textsOf('error').some((e) => e.code === 'NOT_SUPPORTED_FOR_KIND'), 'the refusal');
    await socket.close();
    await d.request('DELETE', `/api/v1/sessions/${created.body.id}?force=true`);
  } finally {
    await d.stop();
  }
});
