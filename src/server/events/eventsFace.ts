// Attaches the event stream (`GET /api/v1/events`, SSE) to the daemon. It reads the daemon's EventHub (FaceContext),
// which webhooks read too, so an event has one id whether it arrives by SSE or by webhook. Holds no state.

import type { DaemonFace, FaceContext } from '../face.js';
import { eventsQuery, registerEventStream } from './sseRoute.js';

export interface EventsFaceOptions {
  keepaliveMs?: number;
}

export class EventsFace implements DaemonFace {
  constructor(private readonly options: EventsFaceOptions = {}) {}

  attach(context: FaceContext): void {
    const streams = registerEventStream(context.app, context.events, {
      keepaliveMs: this.options.keepaliveMs,
      log: (level, message, fields) => context.logger[level](fields, message),
      tokens: context.engine.tokens,
    });
    const listed = context.tasks.add(streams);
    context.routes.describe({
      method: 'GET',
      url: '/events',
      summary: 'Server-sent events for all sessions (created, state, exited); resume with Last-Event-ID',
      tag: 'events',
      query: eventsQuery,
    });
    // Open event streams would keep the HTTP server from closing.
    context.app.addHook('preClose', (done) => {
      streams.closeAll();
      listed.dispose();
      done();
    });
  }
}
