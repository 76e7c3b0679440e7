// engine.tokens: what a session's scoped token (CORRAL_TOKEN) may reach. Faces resolve a bearer token here and ask,
// before acting for a scoped caller, whether its scope covers the session or task at hand; a refusal is recorded
// (log and a `security.refused` event of the token's session) and thrown as TOKEN_SCOPE.

import type { CorralError } from '../../protocol/errors.js';
import type { SessionSandbox } from '../../protocol/sessionTypes.js';
import type { SandboxSupport } from '../sandbox/sandboxSupport.js';
import type { ScopedCaller, SessionManager } from '../SessionManager.js';
import type { TokenScope } from '../tokens/ScopedTokens.js';

export type { ScopedCaller, TokenScope, SessionSandbox };

export class EngineTokens {
  constructor(private readonly manager: SessionManager) {}

  /** The scope of a session's token, or undefined when `token` is not the scoped token of a live session. */
  resolve(token: string): TokenScope | undefined {
    return this.manager.tokens.resolve(token);
  }

  /** The scope of a token by its SHA-256 hash (hex), for a request another node of a fleet forwards; undefined unless live. */
  resolveHash(hash: string): TokenScope | undefined {
    return this.manager.tokens.resolveHash(hash);
  }

  /** The SHA-256 hash (hex) of the scoped token session `sessionId` holds, while its session is live. */
  tokenHashOf(sessionId: string): string | undefined {
    return this.manager.tokens.hashOf(sessionId);
  }

  /** The daemon's URL, given to sessions with a scoped token as CORRAL_URL (set once the daemon listens). */
  setEndpoint(url: string): void {
    this.manager.tokens.endpoint = url;
  }

  /** Whether `scope` reaches session `id`: the token's own session, or a session of its task. */
  allowsSession(scope: TokenScope, id: string): boolean {
    if (id === scope.sessionId) return true;
    if (scope.taskId === null) return false;
    const live = this.manager.find(id);
    const taskId = live === undefined ? this.manager.store.getSession(id)?.info.taskId : live.spec.taskId;
    return taskId === scope.taskId;
  }

  /** Throws TOKEN_SCOPE (recorded) unless the caller's scope reaches session `id`. */
  checkSession(caller: ScopedCaller, id: string, action: string): void {
    if (this.allowsSession(caller.scope, id)) return;
    throw this.refuse(caller, action, id, `This token may not reach session ${id}.`);
  }

  /** Throws TOKEN_SCOPE (recorded) unless `taskId` is the caller's own task. */
  checkTask(caller: ScopedCaller, taskId: string, action: string): void {
    if (caller.scope.taskId !== null && caller.scope.taskId === taskId) return;
    throw this.refuse(caller, action, taskId, `This token may not reach task ${taskId}.`);
  }

  /** Records a refusal of the caller and returns the TOKEN_SCOPE error to throw. */
  refuse(caller: ScopedCaller, action: string, target: string | null, message: string): CorralError {
    return this.manager.refuseScope(caller, action, target, message);
  }

  /** Whether sandboxes can be made here, and why not. */
  sandboxSupport(): SandboxSupport {
    return this.manager.sandboxSupport;
  }
}
