// The one error the typed client throws for a refusal or an unreachable daemon: the daemon's stable catalog code
// (src/protocol/errors.ts) with its HTTP status and details, or one of the client's own codes when no reply came.

import type { ErrorCode } from '../protocol/errors.js';

/** Codes only a client can see: nothing answered, or no daemon could be found to ask. */
export type ClientOnlyCode = 'DAEMON_UNREACHABLE' | 'NO_DAEMON';

export type CorralClientErrorCode = ErrorCode | ClientOnlyCode;

export class CorralClientError extends Error {
  constructor(
    /** The catalog's code (`SESSION_NOT_FOUND`, `CWD_NOT_ALLOWED`, …), or DAEMON_UNREACHABLE / NO_DAEMON. */
    readonly code: CorralClientErrorCode,
    message: string,
    /** The HTTP status of the refusal; null when no reply came. */
    readonly status: number | null,
    /** The reply's `error.details` (e.g. `{ state }` with SESSION_BUSY, `{ issues }` with VALIDATION_FAILED). */
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CorralClientError';
  }
}
