// The daemon's events (`GET /api/v1/events`, server-sent events) as an async iterator. A dropped stream is reopened
// with Last-Event-ID, so the consumer misses nothing the daemon still holds, and is told (a `gap`) when it did.
// Breaking out of the loop, or the caller's signal, closes the stream.

import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineEventType, EventGap, FleetNodeEvent, HubEvent } from '../protocol/events.js';
import { CorralClientError } from './CorralClientError.js';
import { queryString, type RestTransport } from './RestTransport.js';

/** The daemon's own `retry:` (1 s) until it says otherwise. */
const DEFAULT_RETRY_MS = 1000;
/** Reopens in a row that find no daemon before the iterator gives up with DAEMON_UNREACHABLE (about 20 s at 1 s). */
const MAX_EVENT_RECONNECTS = 20;
/** One SSE event's text; the daemon's largest (a session object) is a few KiB, so this only stops a runaway peer. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export interface EventsOptions {
  /** Only these event types (default all). */
  types?: readonly EngineEventType[];
  sessionId?: string;
  /** Resume after this event id (a HubEvent's `id`). */
  lastEventId?: string;
  /** Reopen a dropped stream (default true). */
  reconnect?: boolean;
  signal?: AbortSignal;
}

/** A fleet's stream adds FleetNodeEvent (a node's events stopped or resumed); a single daemon's never sends one. */
export type CorralEvent = HubEvent | EventGap | FleetNodeEvent;

export async function* eventStream(transport: RestTransport, options: EventsOptions = {}): AsyncGenerator<CorralEvent> {
  const path = `/api/v1/events${queryString({ types: options.types?.join(','), sessionId: options.sessionId })}`;
  let lastEventId = options.lastEventId;
  let retryMs = DEFAULT_RETRY_MS;
  let failures = 0;
  for (;;) {
    // Our own controller, so leaving the loop early cancels the request even when the caller gave no signal.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await transport.open(path, {
        signal: controller.signal,
        headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
      });
      failures = 0;
      for await (const message of sseMessages(response)) {
        if (message.retry !== undefined) retryMs = message.retry;
        // An id with no data (where a fresh stream starts) moves the resume point too, as in a browser.
        if (message.id !== undefined) lastEventId = message.id;
        if (message.data === undefined) continue;
        if (message.event === 'gap') {
          yield { type: 'gap', ...(JSON.parse(message.data) as Omit<EventGap, 'type'>) };
          continue;
        }
        if (message.event === 'node.unreachable' || message.event === 'node.reachable') {
          yield JSON.parse(message.data) as FleetNodeEvent;
          continue;
        }
        const event = JSON.parse(message.data) as HubEvent;
        lastEventId = message.id ?? event.id;
        yield event;
      }
    } catch (error) {
      if (options.signal?.aborted === true) return;
      // Only an unreachable daemon is worth waiting out; a refusal (bad token) will not change by retrying.
      if (!(error instanceof CorralClientError && error.code === 'DAEMON_UNREACHABLE') && !isStreamDrop(error)) throw error;
      failures++;
      if (options.reconnect === false || failures > MAX_EVENT_RECONNECTS) throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      controller.abort();
    }
    // The daemon ended the stream (shutdown, or we fell too far behind): resume where we stopped.
    if (options.reconnect === false) return;
    try {
      await sleep(retryMs, undefined, { signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted === true) return;
      throw error;
    }
  }
}

/** A connection that broke mid-stream (the daemon died): undici reports it as a TypeError `terminated`. */
function isStreamDrop(error: unknown): boolean {
  return error instanceof TypeError;
}

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/** Parses the text/event-stream body into messages (the WHATWG rules, minus what the daemon never sends). */
async function* sseMessages(response: Response): AsyncGenerator<SseMessage> {
  if (response.body === null) return;
  const decoder = new TextDecoder();
  let buffer = '';
  let message: SseMessage = {};
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    if (buffer.length > MAX_EVENT_CHARS) throw new CorralClientError('INTERNAL', `An event of over ${MAX_EVENT_CHARS} characters; giving up on the stream.`, null);
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (message.data !== undefined || message.retry !== undefined) yield message;
        message = {};
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
      else if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'retry' && /^\d+$/.test(value)) message.retry = Number(value);
    }
  }
}
