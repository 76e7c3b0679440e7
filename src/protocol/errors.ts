// The one catalog of error codes. Every face maps a CorralError through this table once:
// REST to an HTTP status, MCP to an isError result, WebSocket to a close code. Imports neither Node nor DOM.

export const ERROR_CATALOG = {
  BAD_REQUEST: { status: 400, wsClose: 4400 },
  VALIDATION_FAILED: { status: 400, wsClose: 4400 },
  INVALID_UTF8: { status: 400, wsClose: 4400 },
  INVALID_KEY: { status: 400, wsClose: 4400 },
  INVALID_PATTERN: { status: 400, wsClose: 4400 },
  ENV_NOT_ALLOWED: { status: 400, wsClose: 4400 },
  CWD_NOT_ALLOWED: { status: 400, wsClose: 4400 },
  CWD_NOT_FOUND: { status: 400, wsClose: 4400 },
  PROFILE_NOT_FOUND: { status: 400, wsClose: 4400 },
  COMMAND_NOT_FOUND: { status: 400, wsClose: 4400 },
  TEMPLATE_NOT_FOUND: { status: 404, wsClose: 4404 },
  MACRO_NOT_FOUND: { status: 404, wsClose: 4404 },
  UNAUTHORIZED: { status: 401, wsClose: 4401 },
  FORBIDDEN_HOST: { status: 403, wsClose: 4403 },
  FORBIDDEN_ORIGIN: { status: 403, wsClose: 4403 },
  READ_ONLY: { status: 403, wsClose: 4403 },
  SESSION_NOT_FOUND: { status: 404, wsClose: 4404 },
  TASK_NOT_FOUND: { status: 404, wsClose: 4404 },
  WEBHOOK_NOT_FOUND: { status: 404, wsClose: 4404 },
  WEBHOOK_URL_NOT_ALLOWED: { status: 400, wsClose: 4400 },
  NOT_FOUND: { status: 404, wsClose: 4404 },
  SESSION_NOT_RUNNING: { status: 409, wsClose: 4409 },
  INPUT_CLOSED: { status: 409, wsClose: 4409 },
  SESSION_BUSY: { status: 409, wsClose: 4409 },
  SHELL_INTEGRATION_UNAVAILABLE: { status: 409, wsClose: 4409 },
  INVALID_STATE: { status: 409, wsClose: 4409 },
  NOT_SUPPORTED_FOR_KIND: { status: 409, wsClose: 4409 },
  CONFLICT: { status: 409, wsClose: 4409 },
  PAYLOAD_TOO_LARGE: { status: 413, wsClose: 1009 },
  SESSION_LIMIT: { status: 429, wsClose: 4429 },
  SPAWN_FAILED: { status: 500, wsClose: 1011 },
  SHUTTING_DOWN: { status: 503, wsClose: 1001 },
  // Another process holds the store's write lock past the daemon's short busy wait: nothing was changed, ask again.
  STORE_BUSY: { status: 503, wsClose: 1013, retryAfterSeconds: 1 },
  // The disk refused a write (full, or the daemon started read-only on a full disk): nothing new can be recorded.
  STORAGE_FULL: { status: 507, wsClose: 1011, retryAfterSeconds: 30 },
  INTERNAL: { status: 500, wsClose: 1011 },
} as const satisfies Record<string, CatalogEntry>;

interface CatalogEntry {
  status: number;
  wsClose: number;
  /** Sent as `Retry-After`: the condition is temporary and the same request may succeed this many seconds later. */
  retryAfterSeconds?: number;
}

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error the engine raises on purpose: a stable code, a message a person (or a model) can act on. */
export class CorralError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CorralError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  /** Seconds after which the same request may succeed (the `Retry-After` header), for temporary conditions. */
  get retryAfterSeconds(): number | undefined {
    const entry: CatalogEntry = ERROR_CATALOG[this.code];
    return entry.retryAfterSeconds;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export function isCorralError(value: unknown): value is CorralError {
  return value instanceof CorralError;
}
