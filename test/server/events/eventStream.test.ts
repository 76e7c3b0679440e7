// `GET /api/v1/events` (SSE): every engine event with an id, resume by Last-Event-ID, and an explicit gap
// event (with the count) when the backlog no longer holds what the client missed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventsFace } from '../../../src/server/events/eventsFace.js';
import { startInProcess, type InProcessDaemon } from '../../helpers/wsTestClient.js';

interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** A minimal SSE reader over fetch: yields parsed events until aborted. */
class SseClient {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters = new Set<() => void>();
  readonly done: Promise<void>;
  /** Resolves when the response headers arrived: the server subscribed before writing them. */
  readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;

  constructor(url: string, headers: Record<string, string>) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.done = this.run(url, headers);
  }

  private async run(url: string, headers: Record<string, string>): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: this.controller.signal });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      this.markReady();
      const reader = (response.body ?? new ReadableStream<Uint8Array>()).pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { id: null, event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon === 0) continue; // comment (keepalive)
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
          for (const waiter of [...this.waiters]) waiter();
        }
      }
    } catch (error) {
      // Aborting the fetch is how a test disconnects.
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }

  until(predicate: (events: SseEvent[]) => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.events)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.event).join(', ')}`));
      }, 60_000);
      this.waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

const BACKLOG = 6;

describe('event stream', () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcess([new EventsFace()], { eventBacklog: BACKLOG });
  });
  after(async () => {
    await d.stop();
  });
  const open = async (query = '', headers: Record<string, string> = {}): Promise<SseClient> => {
    const client = new SseClient(`${d.url}/api/v1/events${query}`, { ...d.auth, ...headers });
    await client.ready;
    return client;
  };
  const runSession = async (): Promise<string> => {
    const { body } = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['true'], cwd: d.root, kind: 'pipe' });
    await d.request('POST', `/api/v1/sessions/${body.id}/wait`, { exit: true, timeoutMs: 30_000 });
    return body.id;
  };

  test('streams created, state and exited events with ids, and needs the token', async () => {
    const unauthorized = await fetch(`${d.url}/api/v1/events`);
    assert.equal(unauthorized.status, 401);
    await unauthorized.body?.cancel();
    const client = await open();
    const id = await runSession();
    await client.until((events) => events.some((e) => e.event === 'session.exited' && e.data.includes(id)), 'exited');
    const mine = client.events.filter((e) => (JSON.parse(e.data) as { sessionId: string }).sessionId === id);
    assert.equal(mine[0]?.event, 'session.created');
    assert.ok(mine.some((e) => e.event === 'session.state' && (JSON.parse(e.data) as { data: { event: { to: string; source: string } } }).data.event.to === 'terminated'));
    for (const event of mine) {
      const body = JSON.parse(event.data) as { id: string; type: string };
      assert.equal(body.id, event.id);
      assert.equal(body.type, event.event);
    }
    const seqs = client.events.map((e) => Number(e.id?.split('.')[1]));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'ids increase');
    await client.close();
  });

  test('a client that reconnects with Last-Event-ID gets exactly the events it missed', async () => {
    const first = await open();
    const id1 = await runSession();
    await first.until((events) => events.some((e) => e.event === 'session.exited' && e.data.includes(id1)), 'first session');
    const last = first.events.at(-1);
    assert.ok(last?.id);
    await first.close();
    const id2 = await runSession(); // missed while disconnected (3 events: created, state, exited — within BACKLOG)
    const resumed = await open('', { 'last-event-id': last.id });
    await resumed.until((events) => events.some((e) => e.event === 'session.exited' && e.data.includes(id2)), 'replayed');
    assert.equal(resumed.events.some((e) => e.event === 'gap'), false);
    const lastSeq = Number(last.id.split('.')[1]);
    const replayedSeqs = resumed.events.map((e) => Number(e.id?.split('.')[1]));
    assert.equal(replayedSeqs[0], lastSeq + 1, 'starts right after the last seen event');
    assert.deepEqual(
      replayedSeqs,
      replayedSeqs.map((_, i) => lastSeq + 1 + i),
      'no event skipped or repeated',
    );
    assert.ok(resumed.events.every((e) => e.data.includes(id2)));
    await resumed.close();
  });

  test('resuming past the backlog starts with a gap event that says how many events were lost', async () => {
    const first = await open();
    const id1 = await runSession();
    await first.until((events) => events.some((e) => e.event === 'session.exited' && e.data.includes(id1)), 'first');
    const last = first.events.at(-1);
    assert.ok(last?.id);
    await first.close();
    await runSession();
    await runSession();
    await runSession(); // ≥ 9 events missed, the backlog keeps 6
    const resumed = await open('', { 'last-event-id': last.id });
    await resumed.until((events) => events.length >= BACKLOG + 1, 'gap and backlog');
    const gap = resumed.events[0];
    assert.equal(gap?.event, 'gap');
    const body = JSON.parse(gap.data) as { lost: number; reason: string };
    assert.equal(body.reason, 'evicted');
    const firstReplayed = Number(resumed.events[1]?.id?.split('.')[1]);
    assert.equal(body.lost, firstReplayed - Number(last.id.split('.')[1]) - 1);
    assert.ok(body.lost >= 3);
    await resumed.close();

    const otherBoot = await open('', { 'last-event-id': 'deadbeef.3' });
    await otherBoot.until((events) => events.length >= 1, 'gap for another daemon run');
    assert.equal(otherBoot.events[0]?.event, 'gap');
    assert.equal((JSON.parse(otherBoot.events[0].data) as { reason: string }).reason, 'other-boot');
    await otherBoot.close();
  });

  test('filters by event type and session', async () => {
    const client = await open('?types=session.exited');
    const id = await runSession();
    await client.until((events) => events.some((e) => e.data.includes(id)), 'exited only');
    assert.ok(client.events.every((e) => e.event === 'session.exited'));
    await client.close();
  });
});
