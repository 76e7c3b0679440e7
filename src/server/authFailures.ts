// Wrong tokens, counted per peer address: past a burst, a peer that keeps guessing is answered 429 with Retry-After
// instead of 401, before any further comparison. Must never slow or refuse the right token: the door checks it
// first, and only a failed check consults this.

/** Wrong tokens a peer may send back to back: a client with a stale token retrying a few times is not an attack. */
export const AUTH_FAILURE_BURST = 20;
/** Then one more every 500 ms: brute force against 256 bits is hopeless anyway; this bounds log noise and CPU. */
export const AUTH_FAILURE_REFILL_MS = 500;
/** Peers tracked at once; the least recently failing is forgotten past it (a local flood cannot grow the map). */
export const MAX_TRACKED_PEERS = 1024;

interface Bucket {
  tokens: number;
  at: number;
}

export interface AuthFailureStats {
  /** Wrong tokens answered 401. */
  refused: number;
  /** Wrong tokens answered 429 because the peer was over its budget. */
  rateLimited: number;
}

export class AuthFailureLimiter {
  private readonly peers = new Map<string, Bucket>();
  private readonly counts: AuthFailureStats = { refused: 0, rateLimited: 0 };

  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * Records one wrong token from `peer`. Returns 0 when it is within the budget (answer 401), else the seconds until
   * the peer may try again (answer 429 with that Retry-After).
   */
  fail(peer: string): number {
    const now = this.now();
    const bucket = this.peers.get(peer) ?? { tokens: AUTH_FAILURE_BURST, at: now };
    bucket.tokens = Math.min(AUTH_FAILURE_BURST, bucket.tokens + (now - bucket.at) / AUTH_FAILURE_REFILL_MS);
    bucket.at = now;
    // Re-inserted so the map's order is least recently failing first.
    this.peers.delete(peer);
    this.peers.set(peer, bucket);
    if (this.peers.size > MAX_TRACKED_PEERS) {
      const oldest = this.peers.keys().next().value;
      if (oldest !== undefined) this.peers.delete(oldest);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.counts.refused++;
      return 0;
    }
    this.counts.rateLimited++;
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * AUTH_FAILURE_REFILL_MS) / 1000));
  }

  /** Whether `peer` is over its budget right now (its next wrong token would be 429); counts nothing. */
  limited(peer: string): boolean {
    const bucket = this.peers.get(peer);
    if (bucket === undefined) return false;
    return Math.min(AUTH_FAILURE_BURST, bucket.tokens + (this.now() - bucket.at) / AUTH_FAILURE_REFILL_MS) < 1;
  }

  stats(): AuthFailureStats {
    return { ...this.counts };
  }
}
