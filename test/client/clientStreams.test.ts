// The typed client's streams against a real daemon: output by cursor until the session ends, the SSE event stream
// resumed by Last-Event-ID, and a WebSocket attachment that survives a dropped connection without losing or
// repeating a byte.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Corral } from '../../src/client/Corral.js';
import { CorralClientError } from '../../src/client/CorralClientError.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';

let daemon: DaemonHandle;
let corral: Corral;

/**
 * The cut-connection test reaches the daemon through a proxy on 127.0.0.2 at the daemon's own port: the daemon checks
 * the Host header, and this is the one address a proxy can take that it can be told to accept.
 */
const PROXY_HOST = '127.0.0.2';

before(async () => {
  daemon = await startDaemon({ args: ['--allowed-host', PROXY_HOST] });
  corral = new Corral({ url: daemon.url, token: daemon.token });
});

after(async () => {
  await daemon?.stop();
  daemon?.cleanup();
});

/** `n0`…`n{count-1}`, one a line, every `pauseS` seconds: output that is still coming while we read. */
function counter(count: number, pauseS: number): string[] {
  return ['/bin/sh', '-c', `i=0; while [ $i -lt ${count} ]; do echo n$i; i=$((i+1)); sleep ${pauseS}; done`];
}

function expectedCount(count: number): string {
  return Array.from({ length: count }, (_, i) => `n${i}\n`).join('');
}

test('output() follows a session from offset 0 until it ends, each byte once', async () => {
  const session = await corral.sessions.create({ command: counter(5, 0.1), kind: 'pipe', cwd: daemon.root });
  let text = '';
  let cursor = 0;
  for await (const chunk of corral.sessions.output(session.id, { since: 0 })) {
    assert.equal(chunk.offset, cursor, 'pages follow one another');
    text += Buffer.from(chunk.data).toString('utf8');
    cursor = chunk.nextOffset;
  }
  assert.equal(text, expectedCount(5));
  assert.equal((await corral.sessions.get(session.id)).state, 'terminated');
});

test('output() with follow: false stops once caught up, and the text view is characters', async () => {
  const session = await corral.sessions.create({ command: ['/bin/sh', '-c', 'printf "a\\033[1mb\\033[0m\\n"'], kind: 'pipe', cwd: daemon.root });
  await corral.sessions.wait(session.id, { exit: true, timeoutMs: 10_000 });
  const pages: string[] = [];
  for await (const chunk of corral.sessions.output(session.id, { format: 'text', follow: false })) pages.push(chunk.data);
  assert.equal(pages.join(''), 'ab\n');
});

test('events() yields engine events and resumes after the last event id it saw', async () => {
  const first = await corral.sessions.create({ command: ['true'], kind: 'pipe', cwd: daemon.root, name: 'events-first' });
  // An id of another daemon run replays everything this one still holds (after a gap event): find the first session's.
  let lastId: string | undefined;
  for await (const event of corral.events({ types: ['session.created'], lastEventId: '0.0' })) {
    if (event.type === 'session.created' && event.data.type === 'session.created' && event.data.session.id === first.id) {
      lastId = event.id;
      break;
    }
  }
  assert.ok(lastId !== undefined, 'the created event of the first session arrived');
  const second = await corral.sessions.create({ command: ['true'], kind: 'pipe', cwd: daemon.root, name: 'events-second' });
  const resumed = corral.events({ types: ['session.created'], lastEventId: lastId });
  const next = await resumed.next();
  await resumed.return(undefined);
  assert.equal(next.done, false);
  const event = next.value;
  assert.ok(event !== undefined && event.type === 'session.created' && event.data.type === 'session.created');
  assert.equal(event.data.session.id, second.id, 'the first event after the resume point is the next one, not a repeat');
});

test('attach() reopens a dropped connection from the last offset: no byte lost or repeated', async () => {
  // A TCP proxy in front of the daemon, so the test can cut the WebSocket's connection like a network would.
  const daemonPort = Number(new URL(daemon.url).port);
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    const upstream = connect(daemonPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // A cut connection errors on the other side; the test caused it on purpose.
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(daemonPort, PROXY_HOST, resolve);
  });
  try {
    const viaProxy = new Corral({ url: `http://${PROXY_HOST}:${daemonPort}`, token: daemon.token });
    const count = 40;
    const session = await corral.sessions.create({ command: counter(count, 0.05), kind: 'pipe', cwd: daemon.root });
    const attachment = viaProxy.sessions.attach(session.id, { since: 0 });
    const received: Buffer[] = [];
    let reconnects = 0;
    let cut = false;
    attachment.onReconnect(() => reconnects++);
    attachment.onOutput((frame) => {
      received.push(Buffer.from(frame.data));
      // Cut once, mid-stream, after some output arrived.
      if (!cut && Buffer.concat(received).includes('n5\n')) {
        cut = true;
        for (const socket of sockets) socket.destroy();
      }
    });
    await attachment.opened;
    const closed = await attachment.closed;
    assert.equal(closed.exited, true, 'the attachment ended with the session');
    assert.equal(closed.error, null);
    assert.ok(reconnects >= 1, 'the connection was reopened');
    assert.equal(Buffer.concat(received).toString('utf8'), expectedCount(count));
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  }
});

test('attach() to an unknown session is refused with the catalog code, without retrying', async () => {
  const attachment = corral.sessions.attach('s_doesNotExist');
  await assert.rejects(attachment.opened, (error: unknown) => error instanceof CorralClientError && error.code === 'SESSION_NOT_FOUND' && error.status === 404);
  const closed = await attachment.closed;
  assert.equal(closed.error?.code, 'SESSION_NOT_FOUND');
});
