// What webhooks need persisted: subscriptions and a bounded record of delivery attempts. The daemon passes its
// Store, which has these methods; this face never imports the store itself.

import type { DeliveryRecord, WebhookRecord } from '../../protocol/webhooks.js';

export interface WebhookStore {
  putWebhook(record: WebhookRecord): void;
  getWebhook(id: string): WebhookRecord | undefined;
  listWebhooks(): readonly WebhookRecord[];
  deleteWebhook(id: string): boolean;
  recordDelivery(record: DeliveryRecord): boolean;
  listDeliveries(webhookId: string, limit: number): DeliveryRecord[];
}
