// What webhooks need persisted: subscriptions and a bounded record of delivery attempts. The daemon passes its
// Store, which has these methods (a fleet node: subscriptions replicated through etcd, src/fleet/fleetWebhooks.ts,
// whose writes are asynchronous); this face never imports the store itself. Reads are synchronous: the dispatcher
// reads the subscriptions for every event.

import type { DeliveryRecord, WebhookRecord } from '../../protocol/webhooks.js';

export interface WebhookStore {
  putWebhook(record: WebhookRecord): void | Promise<void>;
  getWebhook(id: string): WebhookRecord | undefined;
  listWebhooks(): readonly WebhookRecord[];
  deleteWebhook(id: string): boolean | Promise<boolean>;
  recordDelivery(record: DeliveryRecord): boolean;
  listDeliveries(webhookId: string, limit: number): DeliveryRecord[];
}
