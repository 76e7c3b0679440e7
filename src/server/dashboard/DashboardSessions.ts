// Dashboard logins: one-time login codes (minted for `corral token --url`) and the browser sessions they open.
// Holds only hashes of codes and session ids, never the API token; must never hand out a code twice.
// Browser sessions are written through to the store (when given one), so a daemon restart logs nobody out; a
// logout or an expiry ends them there too. Codes live a minute and stay in memory.

import { createHash, randomBytes } from 'node:crypto';
import type { LoginStore } from './loginStore.js';

/** A login link is for the next minute: long enough to click from a terminal, short enough to be useless in a log. */
export const LOGIN_CODE_TTL_MS = 60_000;
/** Codes nobody redeemed are few in practice; 32 caps what a token holder in a loop could make us keep. */
export const MAX_PENDING_CODES = 32;
/** A dashboard login lasts a working day, then the user asks for a new link. */
export const DASHBOARD_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Browsers logged in at once; past it the oldest login is dropped (it just has to log in again). */
export const MAX_DASHBOARD_SESSIONS = 100;
/** 256 random bits for both codes and session ids (PRODUCT §3 asks for at least 128). */
const SECRET_BYTES = 32;

function hashOf(value: string): string {
  // Keys are hashes: a map lookup is not constant time, and a hash of a 256-bit secret reveals nothing useful.
  return createHash('sha256').update(value).digest('base64url');
}

export interface LoginCode {
  code: string;
  expiresAt: number;
}

export class DashboardSessions {
  /** Hash of code → expiry (ms since epoch). Insertion order is age order, so eviction takes the first key. */
  private readonly codes = new Map<string, number>();
  /** Hash of session id → expiry. */
  private readonly sessions = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly store: LoginStore | null = null,
  ) {
    // The logins of earlier daemon runs (expired ones are dropped by the store), oldest first like ours.
    for (const login of store?.liveLogins(this.now()) ?? []) this.sessions.set(login.idHash, login.expiresAt);
  }

  mintCode(): LoginCode {
    this.sweep();
    while (this.codes.size >= MAX_PENDING_CODES) this.dropOldest(this.codes);
    const code = randomBytes(SECRET_BYTES).toString('base64url');
    const expiresAt = this.now() + LOGIN_CODE_TTL_MS;
    this.codes.set(hashOf(code), expiresAt);
    return { code, expiresAt };
  }

  /** Spends a code: true once per unexpired code, false ever after. */
  redeemCode(code: string): boolean {
    const key = hashOf(code);
    const expiresAt = this.codes.get(key);
    this.codes.delete(key);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  /** Opens a browser session; the returned id goes only into the HttpOnly cookie. */
  openSession(): { id: string; maxAgeMs: number } {
    this.sweep();
    while (this.sessions.size >= MAX_DASHBOARD_SESSIONS) this.dropOldest(this.sessions);
    const id = randomBytes(SECRET_BYTES).toString('base64url');
    const login = { idHash: hashOf(id), expiresAt: this.now() + DASHBOARD_SESSION_TTL_MS };
    // The store first: a login it refused (a full disk) fails here rather than vanish at the next restart.
    this.store?.saveLogin(login);
    this.sessions.set(login.idHash, login.expiresAt);
    return { id, maxAgeMs: DASHBOARD_SESSION_TTL_MS };
  }

  isValid(id: string): boolean {
    const key = hashOf(id);
    const expiresAt = this.sessions.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.forget(key);
      return false;
    }
    return true;
  }

  /** Logout. The store first: if it refuses, the login stays valid everywhere rather than come back after a restart. */
  closeSession(id: string): void {
    const key = hashOf(id);
    this.store?.deleteLogin(key);
    this.sessions.delete(key);
  }

  /** An expired or evicted login: gone from memory at once; the store drops expired rows on the next start anyway. */
  private forget(key: string): void {
    this.sessions.delete(key);
    try {
      this.store?.deleteLogin(key);
    } catch {
      // Expired rows are never loaded again (liveLogins filters them); an evicted one is retried at its expiry.
    }
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, expiresAt] of this.codes) if (expiresAt <= now) this.codes.delete(key);
    for (const [key, expiresAt] of this.sessions) if (expiresAt <= now) this.forget(key);
  }

  private dropOldest(map: Map<string, number>): void {
    const first = map.keys().next();
    if (first.done === true) return;
    if (map === this.sessions) this.forget(first.value);
    else map.delete(first.value);
  }
}
