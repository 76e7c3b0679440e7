// Attaches webhooks to the daemon: the `/webhooks` routes and the dispatcher that delivers the daemon's EventHub
// events (FaceContext) to every subscription, signed. Holds no state beyond the dispatcher's deliveries in flight.

import type { DaemonFace, FaceContext } from '../face.js';
import { WebhookDispatcher, type DispatcherOptions } from './WebhookDispatcher.js';
import { registerWebhookRoutes } from './webhookRoutes.js';
import { WebhookUrlPolicy } from './webhookUrlPolicy.js';

export type WebhooksFaceOptions = Omit<DispatcherOptions, 'log' | 'userAgent' | 'node'>;

export class WebhooksFace implements DaemonFace {
  constructor(private readonly options: WebhooksFaceOptions = {}) {}

  attach(context: FaceContext): void {
    const policy = new WebhookUrlPolicy([...context.webhookAllow]);
    const dispatcher = new WebhookDispatcher(context.events, context.webhookStore, policy, {
      ...this.options,
      userAgent: `corral-webhook/${context.version}`,
      ...(context.fleetNode === undefined ? {} : { node: context.fleetNode }),
      log: (level, message, fields) => context.logger[level](fields ?? {}, message),
    });
    registerWebhookRoutes(context.routes, context.webhookStore, policy);
    // Deliveries in flight are abandoned at shutdown (the store keeps the record of what was delivered).
    context.app.addHook('preClose', (done) => {
      dispatcher.dispose();
      done();
    });
  }
}
