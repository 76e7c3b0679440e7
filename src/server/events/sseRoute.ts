// `GET /api/v1/events`: the engine's events as server-sent events, resumable with Last-Event-ID from the
// EventHub's backlog. A consumer that stops reading is disconnected (it resumes by id), never buffered forever.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DisposableStore } from '../../common/lifecycle.js';
import { PeriodicTask, type TaskHealth, type TaskLogger } from '../../common/PeriodicTask.js';
import { API_PREFIX } from '../appContext.js';
import { parseWith, type RouteAccess } from '../routeTable.js';
import { scopedCallerOf } from '../callers.js';
import type { ScopedCaller } from '../../engine/engineTypes.js';
import type { HubEvent } from '../../protocol/events.js';
import type { EventHub } from './EventHub.js';

/** Comment lines every 15 s keep proxies from timing the stream out and reveal a dead peer to TCP. */
const DEFAULT_SSE_KEEPALIVE_MS = 15_000;
/** A consumer more than 1 MiB (hundreds of events) behind is cut off; it resumes with Last-Event-ID. */
const SSE_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Clients reconnect after 1 s (the SSE `retry:` field). */
const SSE_RETRY_MS = 1000;

export const eventsQuery = z.object({
  /** Comma-separated event types (session.created, session.state, session.exited, …); default all. */
  types: z.string().max(1024).optional(),
  sessionId: z.string().max(128).optional(),
});

export interface SseStreams {
  /** Ends every open stream and stops the keepalive (daemon shutdown). */
  closeAll(): void;
  readonly openCount: number;
  /** The keepalive task's health (for `/healthz` and metrics). */
  health(): TaskHealth;
}

/** How a stream opened with a session's scoped token is confined (engine.tokens). */
export interface EventScopes {
  allowsSession(scope: ScopedCaller['scope'], id: string): boolean;
  checkSession(caller: ScopedCaller, id: string, action: string): void;
}

export function registerEventStream(
  app: FastifyInstance,
  hub: EventHub,
  options: { keepaliveMs?: number; log?: TaskLogger; tokens?: EventScopes } = {},
): SseStreams {
  /** Each open stream: how to end it, and how to write to it. */
  const open = new Map<() => void, (chunk: string) => void>();
  // One keepalive for every stream, as a guarded task: a write that throws can never take the daemon down.
  const keepalive = new PeriodicTask(
    { name: 'event stream keepalive', intervalMs: options.keepaliveMs ?? DEFAULT_SSE_KEEPALIVE_MS, log: options.log ?? (() => undefined) },
    () => {
      for (const write of [...open.values()]) write(': keepalive\n\n');
    },
  ).start();
  // A session's scoped token may open the stream (`scoped`): it then sees the events of its own session and task only.
  const access: RouteAccess = options.tokens === undefined ? {} : { scoped: 'events' };
  app.get(`${API_PREFIX}/events`, { config: access }, (request: FastifyRequest, reply: FastifyReply) => {
    const query = parseWith(eventsQuery, request.query, 'query');
    const types = query.types === undefined ? null : new Set(query.types.split(',').map((t) => t.trim()).filter((t) => t !== ''));
    const caller = scopedCallerOf(request.raw);
    const tokens = options.tokens;
    if (caller !== undefined && query.sessionId !== undefined) tokens?.checkSession(caller, query.sessionId, 'GET /api/v1/events');
    const inScope = (event: HubEvent): boolean => caller === undefined || tokens?.allowsSession(caller.scope, event.sessionId) === true;
    const wanted = (event: HubEvent): boolean =>
      (types === null || types.has(event.type)) && (query.sessionId === undefined || query.sessionId === event.sessionId) && inScope(event);
    const lastEventId = headerValue(request.headers['last-event-id']);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const disposables = new DisposableStore();
    const end = (): void => {
      if (disposables.isDisposed) return;
      disposables.dispose();
      open.delete(end);
      res.end();
    };
    const write = (chunk: string): void => {
      if (res.writableEnded) return;
      res.write(chunk);
      if (res.writableLength > SSE_MAX_BUFFERED_BYTES) end();
    };
    open.set(end, write);
    const send = (event: HubEvent): void => {
      if (wanted(event)) write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };

    write(`retry: ${SSE_RETRY_MS}\n\n`);
    // Subscribe before replaying: the backlog and the live events are read in the same synchronous turn.
    disposables.add(hub.onEvent(send));
    // A fresh stream says where it starts (an id with no data sets the client's Last-Event-ID, dispatches nothing):
    // a client that sees no event before it reconnects still resumes from here, not from whatever is new then.
    if (lastEventId === undefined) write(`id: ${hub.lastId}\n\n`);
    if (lastEventId !== undefined) {
      const resume = hub.resumeAfter(lastEventId);
      if (resume.reason !== 'ok') {
        // The client cannot get everything it missed: say so, with the count when it is known.
        write(`event: gap\ndata: ${JSON.stringify({ lastEventId, lost: resume.lost, reason: resume.reason })}\n\n`);
      }
      for (const event of resume.events) send(event);
    }
    // The response's close (not the request's: that fires once the request is read) means the client left.
    res.on('close', end);
  });
  return {
    closeAll: () => {
      keepalive.dispose();
      for (const end of [...open.keys()]) end();
    },
    get openCount() {
      return open.size;
    },
    health: () => keepalive.health(),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
