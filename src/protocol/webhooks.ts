// Webhook subscriptions and their delivery attempts, as the store keeps them and `/api/v1/webhooks` shows them
// (the secret only in the reply that created it). Plain data: no Node, no DOM.

export interface WebhookRecord {
  id: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: string;
}

export interface DeliveryRecord {
  webhookId: string;
  eventId: string;
  attempt: number;
  /** HTTP status of the reply; null when no reply came (network error, timeout). */
  status: number | null;
  error: string | null;
  at: string;
  /** A fleet: the node that made the attempt (each node delivers its own sessions' events). */
  node?: string;
}
