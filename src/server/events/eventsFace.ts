// Attaches the event stream (`GET /api/v1/events`, SSE) and webhooks to the daemon. Both read the same
// EventHub, so an event has one id whether it arrives by SSE or by webhook. The face object holds no state.

import type { DaemonFace, FaceContext } from '../face.js';
import { WebhookDispatcher, type DispatcherOptions } from '../webhooks/WebhookDispatcher.js';
import { registerWebhookRoutes } from '../webhooks/webhookRoutes.js';
import { WebhookUrlPolicy } from '../webhooks/webhookUrlPolicy.js';
import { EventHub } from './EventHub.js';
import { eventsQuery, registerEventStream } from './sseRoute.js';

export interface EventsFaceOptions {
  backlog?: number;
  keepaliveMs?: number;
  webhooks?: Omit<DispatcherOptions, 'log' | 'userAgent'>;
}

export class EventsFace implements DaemonFace {
  constructor(private readonly options: EventsFaceOptions = {}) {}

  attach(context: FaceContext): void {
    const hub = new EventHub(context.engine, this.options.backlog);
    const streams = registerEventStream(context.app, hub, {
      keepaliveMs: this.options.keepaliveMs,
      log: (level, message, fields) => context.logger[level](fields, message),
    });
    const listed = context.tasks.add(streams);
    context.routes.describe({
      method: 'GET',
      url: '/events',
      summary: 'Server-sent events for all sessions (created, state, exited); resume with Last-Event-ID',
      tag: 'events',
      query: eventsQuery,
    });
    const policy = new WebhookUrlPolicy([...context.webhookAllow]);
    const dispatcher = new WebhookDispatcher(hub, context.webhookStore, policy, {
      ...this.options.webhooks,
      userAgent: `corral-webhook/${context.version}`,
      log: (level, message, fields) => context.logger[level](fields ?? {}, message),
    });
    registerWebhookRoutes(context.routes, context.webhookStore, policy);
    // Open event streams would keep the HTTP server from closing; deliveries in flight are abandoned.
    context.app.addHook('preClose', (done) => {
      streams.closeAll();
      listed.dispose();
      dispatcher.dispose();
      hub.dispose();
      done();
    });
  }
}
