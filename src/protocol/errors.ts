// The one catalog of error codes. Every face maps a CorralError through this table once:
// REST to an HTTP status, MCP to an isError result, WebSocket to a close code. Imports neither Node nor DOM.

export const ERROR_CATALOG = {
  BAD_REQUEST: { status: 400, wsClose: 4400 },
  /** A URL the router cannot decode (a malformed %-escape). */
  BAD_URL: { status: 400, wsClose: 4400 },
  /** A path segment longer than the router accepts. */
  URL_TOO_LONG: { status: 414, wsClose: 4400 },
  /** The request's headers or body did not arrive in time (a stalled or trickling client). */
  REQUEST_TIMEOUT: { status: 408, wsClose: 4408 },
  /** The request's headers are larger than the server reads. */
  HEADERS_TOO_LARGE: { status: 431, wsClose: 4400 },
  /** A body sent with a content type other than application/json. */
  UNSUPPORTED_MEDIA_TYPE: { status: 415, wsClose: 4400 },
  VALIDATION_FAILED: { status: 400, wsClose: 4400 },
  /** Text with no UTF-8 form: a body that is not valid UTF-8, or input text with a lone surrogate. */
  INVALID_UTF8: { status: 400, wsClose: 4400 },
  INVALID_KEY: { status: 400, wsClose: 4400 },
  INVALID_PATTERN: { status: 400, wsClose: 4400 },
  ENV_NOT_ALLOWED: { status: 400, wsClose: 4400 },
  CWD_NOT_ALLOWED: { status: 400, wsClose: 4400 },
  CWD_NOT_FOUND: { status: 400, wsClose: 4400 },
  /** A sandbox bind that does not exist, lies outside the workspace roots or would expose the daemon's data dir. */
  SANDBOX_BIND_NOT_ALLOWED: { status: 400, wsClose: 4400 },
  PROFILE_NOT_FOUND: { status: 400, wsClose: 4400 },
  COMMAND_NOT_FOUND: { status: 400, wsClose: 4400 },
  /** The command names something exec cannot run: a directory, an empty name. */
  COMMAND_NOT_EXECUTABLE: { status: 400, wsClose: 4400 },
  /** The command is a script whose `#!` line names an interpreter that is not there. */
  INTERPRETER_NOT_FOUND: { status: 400, wsClose: 4400 },
  /** An argument or environment string past the kernel's exec limits (E2BIG). */
  ARGUMENT_TOO_LONG: { status: 400, wsClose: 4400 },
  TEMPLATE_NOT_FOUND: { status: 404, wsClose: 4404 },
  MACRO_NOT_FOUND: { status: 404, wsClose: 4404 },
  UNAUTHORIZED: { status: 401, wsClose: 4401 },
  FORBIDDEN_HOST: { status: 403, wsClose: 4403 },
  FORBIDDEN_ORIGIN: { status: 403, wsClose: 4403 },
  READ_ONLY: { status: 403, wsClose: 4403 },
  /** A token scoped to one session and its task was used on something outside that scope. */
  TOKEN_SCOPE: { status: 403, wsClose: 4403 },
  SESSION_NOT_FOUND: { status: 404, wsClose: 4404 },
  /** A session named by a name or id prefix that fits more than one (the CLI's lookup). */
  SESSION_AMBIGUOUS: { status: 400, wsClose: 4400 },
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
  /** Too many wrong tokens from this peer; Retry-After says when to try again. */
  RATE_LIMITED: { status: 429, wsClose: 4429 },
  SPAWN_FAILED: { status: 500, wsClose: 1011 },
  /**
   * The session asks for a sandbox and this machine cannot make one (no bubblewrap, or user namespaces refused):
   * it is refused rather than run unsandboxed. `GET /healthz` (with the token) says why under `details.sandbox`.
   */
  SANDBOX_UNAVAILABLE: { status: 501, wsClose: 1011 },
  SHUTTING_DOWN: { status: 503, wsClose: 1001 },
  // Another process holds the store's write lock past the daemon's short busy wait: nothing was changed, ask again.
  STORE_BUSY: { status: 503, wsClose: 1013, retryAfterSeconds: 1 },
  // The disk refused a write (full, or the daemon started read-only on a full disk): nothing new can be recorded.
  STORAGE_FULL: { status: 507, wsClose: 1011, retryAfterSeconds: 30 },
  INTERNAL: { status: 500, wsClose: 1011 },
  // A fleet (corral serve --cluster): the node that holds the session is not answering (its lease expired, or it
  // refused the connection). Its sessions may still run under their holders; retry once the node is back.
  NODE_UNREACHABLE: { status: 503, wsClose: 1013, retryAfterSeconds: 2 },
  // A fleet whose coordination store (etcd) cannot be reached: a node still serves its own sessions, but nothing that
  // needs to know where a session lives or which nodes are up (another node's session, a create, the fleet's list).
  ROUTING_UNAVAILABLE: { status: 503, wsClose: 1013, retryAfterSeconds: 2 },
  /** A node name the fleet does not know (or `node` given to a daemon that is not in a fleet). */
  NODE_NOT_FOUND: { status: 404, wsClose: 4404 },
  /** No node of the fleet may take a new session (all draining, unreachable, full, or none matches the selector). */
  NO_NODE_AVAILABLE: { status: 503, wsClose: 1013, retryAfterSeconds: 5 },
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
  /** This refusal's own Retry-After (a rate limit's), over the catalog's for its code. */
  private readonly retryAfterOverride: number | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CorralError';
    this.code = code;
    this.details = options.details;
    this.retryAfterOverride = options.retryAfterSeconds;
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  /** Seconds after which the same request may succeed (the `Retry-After` header), for temporary conditions. */
  get retryAfterSeconds(): number | undefined {
    const entry: CatalogEntry = ERROR_CATALOG[this.code];
    return this.retryAfterOverride ?? entry.retryAfterSeconds;
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
