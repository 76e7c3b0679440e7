// Clients ride through a daemon restart (issue 14), with real daemon processes stopped by kill -9 and by SIGTERM:
// a WebSocket client that reconnects with `since` gets exactly the bytes it missed (offsets continuous, nothing
// twice), and an SSE client that reconnects with Last-Event-ID gets every event of the new daemon run, once, after a
// gap notice for the run it came from. (`corral attach` riding through a restart: test/cli/attach.test.ts.)

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';
import { TestSocket, WAIT_LIMIT_MS } from '../helpers/wsTestClient.js';

type Stop = 'kill -9' | 'SIGTERM';

async function stopDaemon(daemon: DaemonHandle, how: Stop): Promise<void> {
  if (how === 'kill -9') await daemon.crash();
  else assert.equal(await daemon.stop('keep-sessions'), 0);
}

function wsUrl(daemon: DaemonHandle, id: string, since: number): string {
  return `${daemon.url.replace(/^http/, 'ws')}/ws/sessions/${id}?since=${since}`;
}

const auth = (daemon: DaemonHandle): Record<string, string> => ({ authorization: `Bearer ${daemon.token}` });

/** A terminal prints numbered lines ("00000042\r\n"): any byte lost, repeated or reordered breaks the numbering. */
function assertNumberedLines(text: string, what: string): number {
  const lines = text.split('\r\n');
  lines.pop(); // an unfinished last line (or '')
  lines.forEach((line, i) => {
    if (line !== String(i).padStart(8, '0')) assert.fail(`${what}: line ${i} is ${JSON.stringify(line)}`);
  });
  return lines.length;
}

const COUNTER = `i=0; while :; do printf '%08d\\n' $i; i=$((i+1)); sleep 0.01; done`;

for (const how of ['kill -9', 'SIGTERM'] as const) {
  test(`after ${how} of the daemon, a WebSocket client reconnecting with since gets exactly the bytes it missed`, async () => {
    const first = await startDaemon();
    let second: DaemonHandle | null = null;
    try {
      const created = await first.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/sh', '-c', COUNTER], cwd: first.root });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      const before = await TestSocket.open(wsUrl(first, id, 0), auth(first));
      await before.until(() => (before.nextOffset ?? 0) >= 2_000, 'output before the restart');
      await stopDaemon(first, how);
      await before.closed;
      const seen = before.nextOffset ?? 0;
      // Output goes on while no daemon runs: the holder keeps it.
      await sleep(1_000);
      second = await startDaemon({ dataDir: first.dataDir, base: first.base });
      const after = await TestSocket.open(wsUrl(second, id, seen), auth(second));
      // At least what one more second of the counter adds (~1,000 bytes), so the downtime's bytes are in.
      await after.until(() => (after.nextOffset ?? 0) >= seen + 3_000, 'the bytes made while no daemon ran, and more');
      assert.equal(after.firstOffset, seen, 'the reconnected stream starts exactly where the client stopped');
      assert.deepEqual(after.textsOf('gap'), [], 'nothing announced as lost');
      const text = Buffer.concat([before.output, after.output]).toString('latin1');
      const lines = assertNumberedLines(text, `the stream across ${how}`);
      assert.ok(lines >= 300, `${lines} lines`);
      await after.close();
      const ended = await second.request<{ state: string }>('DELETE', `/api/v1/sessions/${id}`);
      assert.equal(ended.body.state, 'terminated');
    } finally {
      await stopLeavingNothing(first, second);
    }
  });
}

interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** A minimal EventSource over fetch: parses the stream into events, as a browser would. */
class SseReader {
  readonly events: SseEvent[] = [];
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.done = this.read(url, headers);
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    try {
      const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.abort.signal });
      assert.equal(response.status, 200);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { id: null, event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon === 0) continue;
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') {
              event.data += (hasData ? '\n' : '') + value;
              hasData = true;
            }
          }
          if (hasData) this.events.push(event);
        }
      }
    } catch (error) {
      // Aborted by close(), or the daemon went away (kill -9): the test looks at what arrived.
      void error;
    }
  }

  async until(predicate: (events: SseEvent[]) => boolean, what: string): Promise<void> {
    for (let waited = 0; !predicate(this.events); waited += 50) {
      if (waited > WAIT_LIMIT_MS) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(this.events.map((e) => e.event))}`);
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

for (const how of ['kill -9', 'SIGTERM'] as const) {
  test(`after ${how} of the daemon, an SSE client resuming with Last-Event-ID gets every event of the new run once, after a gap notice`, async () => {
    const first = await startDaemon();
    let second: DaemonHandle | null = null;
    try {
      const events = new SseReader(`${first.url}/api/v1/events`, auth(first));
      const created = await first.request<{ id: string }>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/sh', '-c', 'exec sleep 1000'], cwd: first.root });
      const survivor = created.body.id;
      await events.until((seen) => seen.some((e) => e.event === 'session.created' && e.data.includes(survivor)), 'the first run\'s created event');
      await stopDaemon(first, how);
      await events.close();
      const lastId = events.events.at(-1)?.id;
      assert.ok(lastId !== null && lastId !== undefined, 'events carry ids');
      const oldBoot = lastId.split('.')[0];

      second = await startDaemon({ dataDir: first.dataDir, base: first.base });
      // While the client is away: the reattached session ends, a new one starts and ends.
      const ended = await second.request<{ state: string }>('DELETE', `/api/v1/sessions/${survivor}`);
      assert.equal(ended.body.state, 'terminated');
      const other = await second.request<{ id: string }>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/true'], cwd: second.root });
      await second.request('POST', `/api/v1/sessions/${other.body.id}/wait`, { exit: true, timeoutMs: 30_000 });
      // What a client that never left would have seen of the new run (it connects after the new run's events).
      const resumed = new SseReader(`${second.url}/api/v1/events`, { ...auth(second), 'last-event-id': lastId });
      await resumed.until(
        (seen) => seen.some((e) => e.event === 'session.exited' && e.data.includes(other.body.id)),
        'the new run\'s events up to the second session\'s exit',
      );
      await resumed.close();

      const [gap, ...replayed] = resumed.events;
      assert.equal(gap?.event, 'gap', 'a notice first: the run the id came from is over');
      assert.equal((JSON.parse(gap.data) as { reason: string }).reason, 'other-boot');
      const ids = replayed.map((e) => e.id ?? '');
      const newBoot = ids[0]?.split('.')[0];
      assert.notEqual(newBoot, oldBoot);
      // Every event of the new run, in order, once: seq 1, 2, 3, … of its boot.
      assert.deepEqual(
        ids,
        ids.map((_, i) => `${newBoot}.${i + 1}`),
      );
      const kinds = (id: string): string[] => replayed.filter((e) => e.data.includes(id)).map((e) => e.event);
      assert.ok(kinds(survivor).includes('session.exited'), `the reattached session's end: ${JSON.stringify(kinds(survivor))}`);
      assert.deepEqual(kinds(other.body.id).filter((kind) => kind !== 'session.state'), ['session.created', 'session.exited']);
    } finally {
      await stopLeavingNothing(first, second);
    }
  });
}
