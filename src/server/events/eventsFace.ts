// Attaches the event stream (`GET /api/v1/events`, SSE) and webhooks to the daemon. Both read the same
// EventHub, so an event has one id whether it arrives by SSE or by webhook. The face object holds no state.

import type { Daemon, DaemonFace } from '../daemon.js';
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

  attach(daemon: Daemon): void {
    const hub = new EventHub(daemon.manager, this.options.backlog);
    const streams = registerEventStream(daemon.app, hub, { keepaliveMs: this.options.keepaliveMs });
    daemon.routes.describe({
      method: 'GET',
      url: '/events',
      summary: 'Server-sent events for all sessions (created, state, exited); resume with Last-Event-ID',
      tag: 'events',
      query: eventsQuery,
    });
    const policy = new WebhookUrlPolicy(daemon.options.webhookAllow ?? []);
    const dispatcher = new WebhookDispatcher(hub, daemon.store, policy, {
      ...this.options.webhooks,
      userAgent: `corral-webhook/${daemon.version}`,
      log: (level, message, fields) => daemon.logger[level](fields ?? {}, message),
    });
    registerWebhookRoutes(daemon.routes, daemon.store, policy);
    // Open event streams would keep the HTTP server from closing; deliveries in flight are abandoned.
    daemon.app.addHook('preClose', (done) => {
      streams.closeAll();
      dispatcher.dispose();
      hub.dispose();
      done();
    });
  }
}
