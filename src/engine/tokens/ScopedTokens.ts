// Tokens a session may hold to call Corral (CORRAL_TOKEN in its environment): each is scoped to the session that
// holds it and its task, never the daemon's token. Kept as SHA-256 hashes only (in memory and in the session's
// stored spec, so a durable session's token still works after a daemon restart); a token is valid only while its
// session is live. It knows no transport: faces ask `EngineTokens` whether a scope allows what a request does.

import { createHash, randomBytes } from 'node:crypto';

/** What a scoped token may reach: its own session, and when that session has a task, the sessions of that task. */
export interface TokenScope {
  sessionId: string;
  taskId: string | null;
}

/** Env names a session with a scoped token gets (a CLI or MCP client in the session finds Corral through them). */
export const SCOPED_TOKEN_ENV = { token: 'CORRAL_TOKEN', url: 'CORRAL_URL' } as const;
/** 256 random bits, like the daemon's token; the prefix tells a scoped token apart when a person sees one. */
const TOKEN_BYTES = 32;
const TOKEN_PREFIX = 'cst_';
/** A scoped token as issue() makes it: the prefix, then 32 bytes in base64url (no padding). */
export const SCOPED_TOKEN_SHAPE = /^cst_[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class ScopedTokens {
  private readonly scopes = new Map<string, TokenScope>();
  private readonly hashes = new Map<string, string>();
  /** The daemon's URL, once it listens: given to sessions as CORRAL_URL. */
  endpoint: string | null = null;

  constructor(private readonly isLive: (sessionId: string) => boolean) {}

  /** A new token for `sessionId`; only its hash is kept. */
  issue(sessionId: string, taskId: string | null): { token: string; hash: string } {
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
    const hash = hashToken(token);
    this.restore(sessionId, taskId, hash);
    return { token, hash };
  }

  /** Registers a token by its hash (a session reattached after a restart). */
  restore(sessionId: string, taskId: string | null, hash: string): void {
    this.scopes.set(hash, { sessionId, taskId });
    this.hashes.set(sessionId, hash);
  }

  /** The scope of a token, or undefined when it is not a scoped token of a live session. */
  resolve(token: string): TokenScope | undefined {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    return this.resolveHash(hashToken(token));
  }

  /**
   * The scope of a token known by its hash (another node of a fleet forwards a request of this token by its hash,
   * never the token itself), or undefined when no live session here holds it.
   */
  resolveHash(hash: string): TokenScope | undefined {
    const scope = this.scopes.get(hash);
    if (scope === undefined || !this.isLive(scope.sessionId)) return undefined;
    return scope;
  }

  /** The hash of the token session `sessionId` holds, while it holds one (a fleet records it so other nodes find it). */
  hashOf(sessionId: string): string | undefined {
    return this.hashes.get(sessionId);
  }

  /** The session ended: its token stops working. */
  revoke(sessionId: string): void {
    const hash = this.hashes.get(sessionId);
    if (hash === undefined) return;
    this.hashes.delete(sessionId);
    this.scopes.delete(hash);
  }
}
