// Record shapes the store reads and writes (camelCase, as the engine uses them). The engine's own shapes live
// with its storage ports (src/engine/ports.ts) and are re-exported here; the webhook records are wire
// records (src/protocol/webhooks.ts).
// Plain data only: never imports SQLite, so callers can type against the store without opening it.

export type {
  CommandFinish,
  ListSessionsQuery,
  NamedBody,
  SeqPageQuery,
  SessionPage,
  SessionRuntime,
  StoredSession,
} from '../engine/ports.js';
export type { DeliveryRecord, WebhookRecord } from '../protocol/webhooks.js';
