// The session WebSocket end to end over 127.0.0.1: replay and resume byte-exact against REST, gaps, several
// clients, the door on the upgrade, read-only attach, message caps.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocketFace } from '../../../src/server/ws/wsFace.js';
import { WS_MAX_MESSAGE_BYTES } from '../../../src/server/ws/SessionSocketServer.js';
import { EventsFace } from '../../../src/server/events/eventsFace.js';
import { TestSocket, startInProcess, upgradeStatus, type InProcessDaemon } from '../../helpers/wsTestClient.js';

interface Info {
  id: string;
  state: string;
  cols: number;
  rows: number;
  output: { totalBytes: number; firstAvailableOffset: number };
}

/** Every byte of a session from `since` through REST (the reference the WebSocket must match). */
async function restOutput(d: InProcessDaemon, id: string, since: number): Promise<{ data: Buffer; offset: number; gap: number }> {
  const parts: Buffer[] = [];
  let cursor = since;
  let first: { offset: number; gap: number } | null = null;
  for (;;) {
    const { body } = await d.request<{ data: string; offset: number; nextOffset: number; gap: number }>(
      'GET',
      `/api/v1/sessions/${id}/output?since=${cursor}&format=raw&limit=4194304`,
    );
    first ??= { offset: body.offset, gap: body.gap };
    const chunk = Buffer.from(body.data, 'base64');
    if (chunk.length === 0) break;
    parts.push(chunk);
    cursor = body.nextOffset;
  }
  return { data: Buffer.concat(parts), offset: first.offset, gap: first.gap };
}

async function createSession(d: InProcessDaemon, command: string[]): Promise<Info> {
  const { status, body } = await d.request<Info>('POST', '/api/v1/sessions', { command, cwd: d.root });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

async function waitExit(d: InProcessDaemon, id: string): Promise<Info> {
  const { body } = await d.request<{ session: Info }>('POST', `/api/v1/sessions/${id}/wait`, { exit: true, timeoutMs: 60_000 });
  return body.session;
}

const BASH = ['bash', '--norc', '--noprofile'];

describe('session websocket', () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcess([new WebSocketFace(), new EventsFace()]);
  });
  after(async () => {
    await d.stop();
  });
  const open = (id: string, query = '', headers: Record<string, string> = {}): Promise<TestSocket> =>
    TestSocket.open(`${d.wsUrl}/ws/sessions/${id}${query}`, { ...d.auth, ...headers });

  test('a client that reconnects with since gets exactly the bytes it missed, and exit after the last byte', async () => {
    const session = await createSession(d, BASH);
    const first = await open(session.id, '?since=0');
    first.send({ type: 'input', data: 'for i in $(seq 1 2000); do echo line-$i; done\r' });
    await first.until(() => first.output.includes('line-2000\r\n'), 'first batch');
    const cursor = first.nextOffset ?? 0;
    await first.close();
    // While nobody is attached: more output, then the session ends.
    await d.request('POST', `/api/v1/sessions/${session.id}/input`, { data: 'for i in $(seq 2001 4000); do echo line-$i; done; exit 7\r' });
    const ended = await waitExit(d, session.id);
    const second = await open(session.id, `?since=${cursor}`);
    const closed = await second.closed;
    assert.equal(closed.code, 1000);
    assert.equal(second.firstOffset, cursor, 'the replay starts at the asked offset');
    assert.equal(second.textsOf('gap').length, 0);
    const rest = await restOutput(d, session.id, 0);
    assert.equal(Buffer.concat([first.output, second.output]).equals(rest.data), true, 'websocket bytes equal the REST bytes');
    assert.equal(second.nextOffset, ended.output.totalBytes);
    const last = second.texts.at(-1);
    assert.equal(last?.type, 'exit');
    assert.equal(last.type === 'exit' ? last.exit.code : null, 7);
  });

  test('frames a client sends the moment it is connected reach the session while its screen is still being drawn', async () => {
    // A fresh shell and ?screen=1: drawing the snapshot waits on the terminal emulator, and the client's first keys
    // and size arrive during it (as `corral attach` sends a user's keys typed at once). Several rounds, since the
    // window is a matter of scheduling; each one lost its keys about half the time before the server held them.
    for (let round = 0; round < 6; round++) {
      const info = await createSession(d, BASH);
      const socket = await open(info.id, '?screen=1');
      socket.send({ type: 'input', data: `echo early-$((6*7))-${round}\r` });
      socket.send({ type: 'resize', cols: 91, rows: 27 });
      // Not anchored at a line start: a resize that lands while the command runs makes readline redraw the command
      // line, and the result follows the redrawn line on the same row. Only the result has `42` (the keys say $((6*7))).
      const typed = await d.request<{ matched: boolean }>('POST', `/api/v1/sessions/${info.id}/wait`, { pattern: `early-42-${round}`, since: 0, timeoutMs: 15_000 });
      if (!typed.body.matched) {
        const seen = await restOutput(d, info.id, 0);
        const now = (await d.request<Info>('GET', `/api/v1/sessions/${info.id}`)).body;
        assert.fail(`round ${round}: the keys sent at once were typed; state ${now.state}, output ${JSON.stringify(seen.data.toString('utf8'))}`);
      }
      const resized = (await d.request<Info>('GET', `/api/v1/sessions/${info.id}`)).body;
      assert.deepEqual([resized.cols, resized.rows], [91, 27], `round ${round}: the size sent at once was applied`);
      socket.ws.close();
      await d.request('DELETE', `/api/v1/sessions/${info.id}?force=true`);
    }
  });

  test('two clients attached at once receive identical output', async () => {
    const session = await createSession(d, BASH);
    const a = await open(session.id, '?since=0');
    const b = await open(session.id, '?since=0');
    a.send({ type: 'input', data: 'seq 1 60000; exit\r' });
    await Promise.all([a.closed, b.closed]);
    assert.ok(a.output.length > 300_000, `${a.output.length} bytes`);
    assert.equal(a.output.equals(b.output), true);
    assert.equal(a.output.equals((await restOutput(d, session.id, 0)).data), true);
    assert.equal(a.textsOf('exit').length, 1);
    assert.equal(b.textsOf('exit').length, 1);
  });

  test('without since a client starts live at the offset its first state frame names', async () => {
    const session = await createSession(d, BASH);
    const early = await open(session.id, '?since=0');
    // $((…)) makes the command's output differ from the terminal's echo of the typed line: waiting for the echo
    // alone would let the live client attach before bash prints the output, and then see it.
    early.send({ type: 'input', data: 'echo before-$((1+1))-attach\r' });
    await early.until(() => early.output.includes('before-2-attach\r\n'), 'early output');
    // What existed before the live client attached (bash's next prompt may still come, and count for neither side).
    const outputBeforeAttach = early.nextOffset ?? 0;
    const live = await open(session.id);
    await live.until(() => live.texts.length > 0, 'state frame');
    const state = live.texts[0];
    assert.equal(state?.type, 'state');
    const offset = state?.type === 'state' ? state.offset : undefined;
    assert.ok(offset !== undefined && offset >= outputBeforeAttach, `live from ${offset}, before attach ${outputBeforeAttach}`);
    live.send({ type: 'input', data: 'echo after-$((1+1))-attach\r' });
    await live.until(() => live.output.includes('after-2-attach\r\n'), 'live output');
    assert.equal(live.firstOffset, offset);
    assert.equal(live.output.includes('before-2-attach'), false);
    await Promise.all([early.close(), live.close()]);
    await d.request('DELETE', `/api/v1/sessions/${session.id}`);
  });

  test('resize and signal frames reach the session', async () => {
    const session = await createSession(d, BASH);
    const client = await open(session.id);
    client.send({ type: 'resize', cols: 101, rows: 33 });
    client.send({ type: 'input', data: 'stty size\r' });
    await client.until(() => client.output.includes('33 101'), 'stty size');
    const info = (await d.request<Info>('GET', `/api/v1/sessions/${session.id}`)).body;
    assert.deepEqual([info.cols, info.rows], [101, 33]);
    client.send({ type: 'signal', name: 'SIGKILL' });
    await client.closed;
    assert.equal(client.textsOf('exit')[0]?.exit.signal, 'SIGKILL');
  });

  test('a resize frame on a pipe session is refused with NOT_SUPPORTED_FOR_KIND, as REST refuses it, and changes nothing', async () => {
    const created = await d.request<Info>('POST', '/api/v1/sessions', { command: ['sleep', '30'], kind: 'pipe', cwd: d.root });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const session = created.body;
    const client = await open(session.id);
    client.send({ type: 'resize', cols: 50, rows: 20 });
    await client.until(() => client.textsOf('error').length === 1, 'the refusal');
    assert.equal(client.textsOf('error')[0]?.code, 'NOT_SUPPORTED_FOR_KIND');
    const rest = await d.request<{ error: { code: string } }>('POST', `/api/v1/sessions/${session.id}/resize`, { cols: 50, rows: 20 });
    assert.equal(rest.status, 409);
    assert.equal(rest.body.error.code, 'NOT_SUPPORTED_FOR_KIND');
    const info = (await d.request<Info>('GET', `/api/v1/sessions/${session.id}`)).body;
    assert.deepEqual([info.cols, info.rows], [session.cols, session.rows], 'the reported size is unchanged');
    await client.close();
    await d.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
  });

  test('a read-only client cannot type, resize or signal, and is told why', async () => {
    const session = await createSession(d, BASH);
    const viewer = await open(session.id, '?since=0&mode=read-only');
    viewer.send({ type: 'input', data: 'echo SHOULD-NOT-RUN\r' });
    viewer.send({ type: 'resize', cols: 50, rows: 20 });
    viewer.ws.send(Buffer.from('echo ALSO-NOT\r'));
    await viewer.until(() => viewer.textsOf('error').length === 3, 'three refusals');
    assert.deepEqual(
      viewer.textsOf('error').map((frame) => frame.code),
      ['READ_ONLY', 'READ_ONLY', 'READ_ONLY'],
    );
    const writer = await open(session.id);
    writer.send({ type: 'input', data: 'echo marker-$((6*7))\r' });
    await viewer.until(() => viewer.output.includes('marker-42'), 'viewer sees the writer');
    assert.equal((await restOutput(d, session.id, 0)).data.includes('SHOULD-NOT-RUN'), false);
    await Promise.all([viewer.close(), writer.close()]);
    await d.request('DELETE', `/api/v1/sessions/${session.id}`);
  });

  test('malformed client frames get an error frame and the connection stays usable', async () => {
    const session = await createSession(d, BASH);
    const client = await open(session.id);
    client.ws.send('not json');
    client.send({ type: 'resize', cols: 1_000_000, rows: 2 });
    client.send({ type: 'nope' });
    await client.until(() => client.textsOf('error').length === 3, 'three errors');
    assert.deepEqual(
      client.textsOf('error').map((frame) => frame.code),
      ['BAD_REQUEST', 'VALIDATION_FAILED', 'VALIDATION_FAILED'],
    );
    client.send({ type: 'input', data: 'echo still-$((1+1))\r' });
    await client.until(() => client.output.includes('still-2'), 'input after errors');
    await client.close();
    await d.request('DELETE', `/api/v1/sessions/${session.id}`);
  });

  test('a client frame over the message cap closes the connection with 1009', async () => {
    const session = await createSession(d, BASH);
    const client = await open(session.id);
    client.send({ type: 'input', data: 'x'.repeat(WS_MAX_MESSAGE_BYTES + 1) });
    assert.equal((await client.closed).code, 1009);
    await d.request('DELETE', `/api/v1/sessions/${session.id}`);
  });

  test('the upgrade is refused with an HTTP status for a foreign Origin, a missing or wrong token, a token in the URL, an unknown session', async () => {
    const session = await createSession(d, BASH);
    const url = `${d.wsUrl}/ws/sessions/${session.id}`;
    assert.equal((await upgradeStatus(url, d.auth)).status, 101);
    assert.equal((await upgradeStatus(url, { ...d.auth, origin: d.url })).status, 101);
    const foreign = await upgradeStatus(url, { ...d.auth, origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal((JSON.parse(foreign.body) as { error: { code: string } }).error.code, 'FORBIDDEN_ORIGIN');
    assert.equal((await upgradeStatus(url, { ...d.auth, host: 'evil.example' })).status, 403);
    assert.equal((await upgradeStatus(url, {})).status, 401);
    assert.equal((await upgradeStatus(url, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await upgradeStatus(`${url}?token=${d.token}`, {})).status, 401);
    assert.equal((await upgradeStatus(`${d.wsUrl}/ws/sessions/s_AAAAAAAAAAAAAAAAAAAAAA`, d.auth)).status, 404);
    assert.equal((await upgradeStatus(`${url}?since=-1`, d.auth)).status, 400);
    assert.equal((await upgradeStatus(`${d.wsUrl}/ws/other`, d.auth)).status, 404);
    // The unknown-session answer is only for callers past the door.
    assert.equal((await upgradeStatus(`${d.wsUrl}/ws/sessions/s_AAAAAAAAAAAAAAAAAAAAAA`, {})).status, 401);
    await d.request('DELETE', `/api/v1/sessions/${session.id}`);
  });
});

describe('session websocket with a small output ring', () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcess([new WebSocketFace()], { engine: { ringBytes: 4096, journalCapBytes: 16 * 1024 } });
  });
  after(async () => {
    await d.stop();
  });

  test('a replay from an evicted offset starts with a gap frame naming exactly the lost bytes', async () => {
    const session = await createSession(d, ['sh', '-c', 'seq 1 40000; echo END']);
    const ended = await waitExit(d, session.id);
    assert.ok(ended.output.firstAvailableOffset > 0, 'the tiny caps evicted the start');
    const client = await TestSocket.open(`${d.wsUrl}/ws/sessions/${session.id}?since=0`, d.auth);
    await client.closed;
    const gaps = client.textsOf('gap');
    assert.equal(gaps.length, 1);
    const rest = await restOutput(d, session.id, 0);
    assert.deepEqual(gaps[0], { type: 'gap', from: 0, to: rest.offset });
    assert.equal(rest.gap, rest.offset);
    assert.equal(client.firstOffset, rest.offset);
    assert.equal(client.output.equals(rest.data), true);
    assert.ok(client.output.toString().endsWith('END\r\n'));
    assert.equal(client.texts.at(-1)?.type, 'exit');
  });
});
