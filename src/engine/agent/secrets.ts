// Constant-time comparison of per-session hook secrets. Never logs or returns a secret.

import { createHash, timingSafeEqual } from 'node:crypto';

/** Hashing first makes the lengths equal, so the comparison leaks neither content nor length. */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());
}
