// `POST/GET/DELETE /api/v1/webhooks` and `GET /api/v1/webhooks/{id}/deliveries`: subscriptions in the store.
// A secret is shown once, in the reply that created it (or never, when the caller chose it); lists never show it.

import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CorralError } from '../../protocol/errors.js';
import type { WebhookStore } from './webhookStore.js';
import type { WebhookRecord } from '../../protocol/webhooks.js';
import type { RouteTable } from '../routeTable.js';
import type { WebhookUrlPolicy } from './webhookUrlPolicy.js';

/** Subscriptions per daemon: each costs a store read per event, and more than this is a runaway script. */
const MAX_WEBHOOKS = 100;
/** A generated secret: 256 random bits. */
const SECRET_BYTES = 32;
/** Caller-chosen secrets shorter than this are guessable by brute force against captured payloads. */
const MIN_SECRET_CHARS = 16;
const MAX_DELIVERIES_LISTED = 1000;

const createWebhookSchema = z
  .object({
    url: z.string().min(1).max(2048),
    /** Event types (`session.created`, `session.state`, `session.exited`, …), `session.*` or `*`. */
    events: z.array(z.string().min(1).max(64).regex(/^[a-z*][a-z0-9_.*-]*$/)).min(1).max(32),
    secret: z.string().min(MIN_SECRET_CHARS).max(256).optional(),
  })
  .strict();

export const webhookIdParams = z.object({ id: z.string().regex(/^wh_[A-Za-z0-9-]{1,64}$/, 'not a webhook id') });
export const deliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(MAX_DELIVERIES_LISTED).default(100) });

function publicView(webhook: WebhookRecord): Omit<WebhookRecord, 'secret'> {
  return { id: webhook.id, url: webhook.url, events: webhook.events, createdAt: webhook.createdAt };
}

export function registerWebhookRoutes(routes: RouteTable, store: WebhookStore, policy: WebhookUrlPolicy): void {
  const find = (id: string): WebhookRecord => {
    const webhook = store.getWebhook(id);
    if (webhook === undefined) throw new CorralError('WEBHOOK_NOT_FOUND', `No webhook "${id}".`, { details: { id } });
    return webhook;
  };
  routes.add({
    method: 'POST',
    url: '/webhooks',
    summary: 'Subscribe a URL to engine events (signed POSTs, retried with backoff); the generated secret is shown once',
    tag: 'webhooks',
    body: createWebhookSchema,
    status: 201,
    handler: async ({ body }) => {
      const url = policy.check(body.url);
      if (store.listWebhooks().length >= MAX_WEBHOOKS) {
        throw new CorralError('CONFLICT', `${MAX_WEBHOOKS} webhooks exist, the maximum. Delete one first.`);
      }
      const secret = body.secret ?? randomBytes(SECRET_BYTES).toString('base64url');
      const record: WebhookRecord = { id: `wh_${randomUUID()}`, url, events: body.events, secret, createdAt: new Date().toISOString() };
      await store.putWebhook(record);
      return { ...publicView(record), ...(body.secret === undefined ? { secret } : {}) };
    },
  });
  routes.add({
    method: 'GET',
    url: '/webhooks',
    summary: 'Webhook subscriptions (secrets never shown)',
    tag: 'webhooks',
    handler: () => ({ webhooks: store.listWebhooks().map(publicView) }),
  });
  routes.add({
    method: 'GET',
    url: '/webhooks/:id',
    summary: 'One webhook subscription',
    tag: 'webhooks',
    params: webhookIdParams,
    handler: ({ params }) => publicView(find(params.id)),
  });
  routes.add({
    method: 'GET',
    url: '/webhooks/:id/deliveries',
    summary: 'Recorded delivery attempts of a webhook, newest first',
    tag: 'webhooks',
    params: webhookIdParams,
    query: deliveriesQuery,
    handler: ({ params, query }) => ({ deliveries: store.listDeliveries(find(params.id).id, query.limit) }),
  });
  routes.add({
    method: 'DELETE',
    url: '/webhooks/:id',
    summary: 'Remove a webhook subscription and its delivery log',
    tag: 'webhooks',
    params: webhookIdParams,
    handler: async ({ params }) => {
      const webhook = find(params.id);
      await store.deleteWebhook(webhook.id);
      return { deleted: true, webhook: publicView(webhook) };
    },
  });
}
