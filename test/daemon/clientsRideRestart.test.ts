// Clients ride through a daemon restart (issue 14), with real daemon processes stopped by kill -9 and by SIGTERM:
// a WebSocket client that reconnects with `since` gets exactly the bytes it missed (offsets continuous, nothing
// twice), and an SSE client that reconnects with Last-Event-ID gets every event it missed, of the old run and the
// new, once and as first sent: events are logged before they are sent, so a kill -9 mid-churn loses none.
// (`corral attach` riding through a restart: test/cli/attach.test.ts.)

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

/** The seq of an event id (`<boot>.<seq>`): it runs on across daemon runs. */
const seqOf = (id: string | null): number => Number((id ?? '').split('.')[1]);

for (const how of ['kill -9', 'SIGTERM'] as const) {
  test(`after ${how} of the daemon, an SSE client resuming with Last-Event-ID gets every event it missed, of both runs, once`, async () => {
    const first = await startDaemon();
    let second: DaemonHandle | null = null;
    try {
      // One client stays until the daemon dies (what was sent), one leaves early and resumes later.
      const watcher = new SseReader(`${first.url}/api/v1/events`, auth(first));
      const leaver = new SseReader(`${first.url}/api/v1/events`, auth(first));
      const created = await first.request<{ id: string }>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/sh', '-c', 'exec sleep 1000'], cwd: first.root });
      const survivor = created.body.id;
      await leaver.until((seen) => seen.some((e) => e.event === 'session.created' && e.data.includes(survivor)), 'the first run\'s created event');
      await leaver.close();
      const lastId = leaver.events.at(-1)?.id;
      assert.ok(lastId !== null && lastId !== undefined, 'events carry ids');
      // Events of the first run the leaver never saw: a session that starts and ends while it is away.
      const missed = await first.request<{ id: string }>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/true'], cwd: first.root });
      await watcher.until((seen) => seen.some((e) => e.event === 'session.exited' && e.data.includes(missed.body.id)), 'the missed session\'s exit');
      await stopDaemon(first, how);
      await watcher.close();

      second = await startDaemon({ dataDir: first.dataDir, base: first.base });
      // While the client is away: the reattached session ends, a new one starts and ends.
      const ended = await second.request<{ state: string }>('DELETE', `/api/v1/sessions/${survivor}`);
      assert.equal(ended.body.state, 'terminated');
      const other = await second.request<{ id: string }>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/true'], cwd: second.root });
      await second.request('POST', `/api/v1/sessions/${other.body.id}/wait`, { exit: true, timeoutMs: 30_000 });
      const resumed = new SseReader(`${second.url}/api/v1/events`, { ...auth(second), 'last-event-id': lastId });
      await resumed.until(
        (seen) => seen.some((e) => e.event === 'session.exited' && e.data.includes(other.body.id)),
        'the new run\'s events up to the second session\'s exit',
      );
      await resumed.close();

      assert.deepEqual(resumed.events.filter((e) => e.event === 'gap'), [], 'nothing announced as lost');
      // Every event after the id, in order, once: the seqs run on from the id's across the restart.
      const ids = resumed.events.map((e) => e.id);
      assert.deepEqual(
        ids.map(seqOf),
        ids.map((_, i) => seqOf(lastId) + i + 1),
      );
      // What the first run sent after the id comes back exactly as it was sent.
      const sentAfter = watcher.events.filter((e) => seqOf(e.id) > seqOf(lastId));
      assert.deepEqual(resumed.events.slice(0, sentAfter.length), sentAfter);
      const kinds = (id: string): string[] => resumed.events.filter((e) => e.data.includes(id)).map((e) => e.event);
      assert.deepEqual(kinds(missed.body.id).filter((kind) => kind !== 'session.state'), ['session.created', 'session.exited']);
      assert.ok(kinds(survivor).includes('session.exited'), `the reattached session's end: ${JSON.stringify(kinds(survivor))}`);
      assert.deepEqual(kinds(other.body.id).filter((kind) => kind !== 'session.state'), ['session.created', 'session.exited']);
    } finally {
      await stopLeavingNothing(first, second);
    }
  });
}

test('kill -9 of a daemon in the middle of a churn of sessions: every event any client was sent is replayed after the restart', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const watcher = new SseReader(`${first.url}/api/v1/events`, auth(first));
    const before = await first.request<{ id: string }>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/true'], cwd: first.root });
    await watcher.until((seen) => seen.some((e) => e.event === 'session.exited' && e.data.includes(before.body.id)), 'a first session\'s exit');
    const fromId = watcher.events.at(-1)?.id ?? null;
    assert.notEqual(fromId, null);
    // Sessions start and end back to back; the daemon dies while events are being sent.
    let churning = true;
    const churn = (async () => {
      while (churning) {
        try {
          await first.request('POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/true'], cwd: first.root });
        } catch {
          return; // the daemon is gone
        }
      }
    })();
    await watcher.until((seen) => seen.length >= 60, 'events of the churn');
    await first.crash();
    churning = false;
    await churn;
    await watcher.close();
    const sent = watcher.events.filter((e) => seqOf(e.id) > seqOf(fromId));
    assert.ok(sent.length >= 40, `${sent.length} events sent during the churn`);

    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const resumed = new SseReader(`${second.url}/api/v1/events`, { ...auth(second), 'last-event-id': fromId ?? '' });
    await resumed.until((seen) => seen.length >= sent.length, 'the replay');
    await resumed.close();
    assert.deepEqual(resumed.events.filter((e) => e.event === 'gap'), [], 'nothing announced as lost');
    assert.deepEqual(resumed.events.slice(0, sent.length), sent, 'every event sent before the kill, as it was sent');
  } finally {
    await stopLeavingNothing(first, second);
  }
});
