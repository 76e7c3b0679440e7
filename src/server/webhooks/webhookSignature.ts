// Webhook signatures: HMAC-SHA256 with the subscription's secret over `<timestamp>.<body>` (the timestamp is
// signed too, so a captured delivery cannot be replayed later under a fresh timestamp). Never logs a secret.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-corral-signature';
export const TIMESTAMP_HEADER = 'x-corral-timestamp';
export const EVENT_HEADER = 'x-corral-event';
export const EVENT_ID_HEADER = 'x-corral-event-id';
export const ATTEMPT_HEADER = 'x-corral-attempt';

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`); timestamp in Unix seconds. */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(secret: string, timestamp: number, body: string, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
