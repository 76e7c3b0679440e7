// Dashboard logins: one-time login codes (minted for `corral token --url`) and the browser sessions they open.
// Holds only hashes of codes and session ids, never the API token; must never hand out a code twice.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

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

  /**
   * With `file`, browser logins (hashes and expiries only) are kept there so they outlive a daemon restart: an open
   * dashboard reconnects to the next daemon instead of being sent to the login page. Codes stay in memory.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly file: string | null = null,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    if (file !== null) this.load(file);
  }

  private load(file: string): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      // None yet (first start), or a torn file: nobody stays logged in, which is the safe side.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(`dashboard logins not restored from ${file}: ${(error as Error).message}`);
      return;
    }
    if (typeof saved !== 'object' || saved === null) return;
    const now = this.now();
    for (const [key, expiresAt] of Object.entries(saved as Record<string, unknown>)) {
      if (typeof expiresAt === 'number' && expiresAt > now && this.sessions.size < MAX_DASHBOARD_SESSIONS) this.sessions.set(key, expiresAt);
    }
  }

  private save(): void {
    if (this.file === null) return;
    const temp = `${this.file}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(Object.fromEntries(this.sessions)), { mode: 0o600 });
      renameSync(temp, this.file);
    } catch (error) {
      // A full disk: logins still work until the restart, then the user logs in again.
      this.warn(`dashboard logins not saved: ${(error as Error).message}`);
    }
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
    this.sessions.set(hashOf(id), this.now() + DASHBOARD_SESSION_TTL_MS);
    this.save();
    return { id, maxAgeMs: DASHBOARD_SESSION_TTL_MS };
  }

  isValid(id: string): boolean {
    const key = hashOf(id);
    const expiresAt = this.sessions.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.sessions.delete(key);
      return false;
    }
    return true;
  }

  closeSession(id: string): void {
    if (this.sessions.delete(hashOf(id))) this.save();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const map of [this.codes, this.sessions]) {
      for (const [key, expiresAt] of map) if (expiresAt <= now) map.delete(key);
    }
  }

  private dropOldest(map: Map<string, number>): void {
    const first = map.keys().next();
    if (first.done !== true) map.delete(first.value);
  }
}
