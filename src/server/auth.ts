// The door of a service that runs commands (PRODUCT §3): the token file, bearer checks in constant time, and
// exact Host/Origin allowlists against DNS rebinding and cross-site requests. Must never log or echo the token,
// and never accept it from a URL.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { CorralError, isCorralError } from '../protocol/errors.js';
import type { TokenScope } from '../engine/engineTypes.js';
import type { AuthFailureLimiter } from './authFailures.js';

export const TOKEN_FILE = 'token';
/** 256 random bits (PRODUCT §3 asks for at least 128). */
const TOKEN_BYTES = 32;
/** Query parameters that look like credentials: refused outright, so a token never sits in a URL or a log. */
const CREDENTIAL_QUERY_PARAMS = ['token', 'access_token', 'auth', 'authorization', 'api_key', 'apikey'];
export const SESSION_COOKIE = 'corral_session';

/** Reads the token, creating it (mode 0600) on first use; tightens a file that others could read. */
export function loadOrCreateToken(dataDir: string): string {
  const path = join(dataDir, TOKEN_FILE);
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(TOKEN_BYTES).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A first start on a full disk: without a token file no client could ever authenticate, so no start at all.
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
      rmSync(path, { force: true });
      throw new Error(`The disk is full: ${path} (the API token) could not be created. Free space and start corral again.`, { cause: error });
    }
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 22) throw new Error(`${path} holds a token shorter than 128 bits; delete it to make a new one`);
  return token;
}

/**
 * A token file given on the command line (`--token-file`, `--cluster-token-file`): shared by the nodes of a fleet, so
 * it must exist already; refused when others may read it or it is too short to be a secret.
 */
export function readTokenFile(path: string): string {
  if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${path} is readable by other users: chmod 600 it`);
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 22) throw new Error(`${path} holds a token shorter than 128 bits (22 base64 characters)`);
  return token;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison (hashing first makes the lengths equal, so length leaks nothing either). */
export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Who a request acts for: the daemon's owner (its token or the dashboard's cookie), or a session through the token
 * scoped to it (CORRAL_TOKEN), which reaches only that session and its task.
 */
export type Principal = { kind: 'owner' } | { kind: 'scoped'; scope: TokenScope; via?: FleetToken };

/**
 * A session's scoped token issued by another node of a fleet, as this node's door found it (in etcd, by its hash):
 * every request of it is answered by `node`, which holds the session and alone judges whether the token still works.
 */
export interface FleetToken {
  node: string;
  /** SHA-256 (hex) of the token: what travels to `node` in CALLER_HEADER, never the token itself. */
  hash: string;
  scope: TokenScope;
}

/** Scoped tokens of the other nodes of a fleet (set by the fleet face). */
export interface FleetTokenDoor {
  /** The token as found by `resolve` (or before), undefined for a string no node issued. Sync: the door's check is. */
  known(token: string): FleetToken | undefined;
  /** Looks a token up in the fleet before the door's check; ROUTING_UNAVAILABLE when it cannot be looked up. */
  resolve(token: string): Promise<void>;
}

export interface DoorPolicy {
  token: string;
  /** The scope of a session's scoped token (set by the daemon from the engine); undefined for any other string. */
  scopedToken?: (token: string) => TokenScope | undefined;
  /** The scope of a scoped token of this node by its hash, while its session is live (a fleet node forwards that). */
  scopedTokenHash?: (hash: string) => TokenScope | undefined;
  /** A fleet's scoped tokens issued by other nodes (set by the fleet face). */
  fleetTokens?: FleetTokenDoor;
  allowedHosts: Set<string>;
  allowedOrigins: Set<string>;
  /** Validates a dashboard session cookie; set by the dashboard face so REST and WebSocket doors both see it. */
  cookieValid?: (value: string) => boolean;
  /** Wrong tokens per peer: past a burst they are answered 429 (the right token is never counted or slowed). */
  failures?: AuthFailureLimiter;
  /** Called when a connection showed the token: it no longer counts as a stranger (set by the HTTP app). */
  trust?: (socket: Socket) => void;
  /**
   * A fleet's node-to-node token (`--cluster-token-file`): a request that shows it in CLUSTER_TOKEN_HEADER was
   * forwarded by another node and acts for the caller named in CALLER_HEADER. Unset: neither header is accepted.
   */
  clusterToken?: string;
}

/** The node-to-node token of a fleet, sent by a node that forwards a client's request (never the client's token). */
export const CLUSTER_TOKEN_HEADER = 'x-corral-cluster-token';
/**
 * Who a forwarded request acts for, as the front node's door found it: `owner`, `scoped <base64url JSON scope>`, or
 * `token <sha256 hex>` for a scoped token of the receiving node that another node's door was shown (the receiving
 * node resolves it itself, so a token of a session that ended there works nowhere). Taken only together with a valid
 * cluster token; from anyone else it is refused.
 */
export const CALLER_HEADER = 'x-corral-caller';

/** The CALLER_HEADER value that carries `principal`. */
export function callerHeaderOf(principal: Principal): string {
  if (principal.kind === 'owner') return 'owner';
  if (principal.via !== undefined) return `token ${principal.via.hash}`;
  return `scoped ${Buffer.from(JSON.stringify(principal.scope)).toString('base64url')}`;
}

function principalFromCallerHeader(policy: DoorPolicy, value: string | undefined): Principal {
  if (value === undefined || value === 'owner') return { kind: 'owner' };
  const byHash = /^token ([0-9a-f]{64})$/.exec(value);
  if (byHash?.[1] !== undefined) {
    const scope = policy.scopedTokenHash?.(byHash[1]);
    // As at this node's own door: the token of a session that ended (or never was) is not a token.
    if (scope === undefined) throw new CorralError('UNAUTHORIZED', 'Invalid token.');
    return { kind: 'scoped', scope };
  }
  const match = /^scoped ([A-Za-z0-9_-]+)$/.exec(value);
  if (match?.[1] !== undefined) {
    try {
      return { kind: 'scoped', scope: JSON.parse(Buffer.from(match[1], 'base64url').toString('utf8')) as TokenScope };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  throw new CorralError('UNAUTHORIZED', 'Malformed forwarded caller.');
}

export function buildDoorPolicy(options: { token: string; port: number; host: string; extraHosts: string[]; scheme?: 'http' | 'https' }): DoorPolicy {
  const hosts = new Set<string>();
  const origins = new Set<string>();
  const names = ['127.0.0.1', 'localhost', '[::1]', ...options.extraHosts];
  if (!['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(options.host)) names.push(options.host);
  for (const name of names) {
    hosts.add(`${name}:${options.port}`.toLowerCase());
    origins.add(`${options.scheme ?? 'http'}://${name}:${options.port}`.toLowerCase());
  }
  return { token: options.token, allowedHosts: hosts, allowedOrigins: origins };
}

export interface DoorRequest {
  host: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
  cookie: string | undefined;
  query: URLSearchParams;
  /** The peer's address, for counting its wrong tokens. */
  peer: string | undefined;
  /** A fleet node's cluster token and the caller it forwards for (CLUSTER_TOKEN_HEADER, CALLER_HEADER). */
  clusterToken?: string;
  caller?: string;
}

/** The parts of an HTTP request (REST or WebSocket upgrade) the door looks at. */
export function doorRequestOf(headers: Record<string, string | string[] | undefined>, url: string, peer?: string): DoorRequest {
  const one = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);
  const query = new URL(url, 'http://placeholder').searchParams;
  return {
    host: one(headers.host),
    origin: one(headers.origin),
    authorization: one(headers.authorization),
    cookie: one(headers.cookie),
    query,
    peer,
    clusterToken: one(headers[CLUSTER_TOKEN_HEADER]),
    caller: one(headers[CALLER_HEADER]),
  };
}

/** Host and Origin: checked on every request, the health check included. */
export function checkHostAndOrigin(policy: DoorPolicy, req: DoorRequest): void {
  const host = (req.host ?? '').toLowerCase();
  if (!policy.allowedHosts.has(host)) {
    throw new CorralError('FORBIDDEN_HOST', 'Host header not allowed.', { details: { host: req.host ?? null } });
  }
  if (req.origin !== undefined && !policy.allowedOrigins.has(req.origin.toLowerCase())) {
    throw new CorralError('FORBIDDEN_ORIGIN', 'Cross-origin requests are not allowed.', { details: { origin: req.origin } });
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // A malformed value is a cookie Corral never set (any page on another 127.0.0.1 port can plant one): absent.
      return tryDecodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return undefined;
}

/**
 * decodeURIComponent, with undefined for a malformed %-escape: what a client sent in a cookie or a path is input,
 * and bad input must never become a server error.
 */
export function tryDecodeURIComponent(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch (error) {
    if (error instanceof URIError) return undefined;
    throw error;
  }
}

/**
 * The token, from `Authorization: Bearer` (or the dashboard's session cookie through `cookieValid`).
 * A credential in the query string is refused even when the header is right: URLs end up in logs and history.
 */
export function checkToken(policy: DoorPolicy, req: DoorRequest, cookieValid: (value: string) => boolean): Principal {
  for (const name of CREDENTIAL_QUERY_PARAMS) {
    if (req.query.has(name)) {
      throw new CorralError('UNAUTHORIZED', 'Credentials in the URL are refused; send Authorization: Bearer <token>.');
    }
  }
  // A node of the fleet forwarding a client's request: its cluster token, and the caller the front door let in.
  if (req.clusterToken !== undefined) {
    if (policy.clusterToken !== undefined && tokensEqual(req.clusterToken, policy.clusterToken)) return principalFromCallerHeader(policy, req.caller);
    throw refuseWrongToken(policy, req, 'Invalid cluster token.');
  }
  // Only a node (with the cluster token) may say whom it acts for; from a client it is an impersonation attempt.
  if (req.caller !== undefined) throw new CorralError('UNAUTHORIZED', `${CALLER_HEADER} is accepted from fleet nodes only.`);
  const header = req.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] !== undefined && tokensEqual(match[1], policy.token)) return { kind: 'owner' };
    const scope = match?.[1] === undefined ? undefined : policy.scopedToken?.(match[1]);
    if (scope !== undefined) return { kind: 'scoped', scope };
    const fleet = match?.[1] === undefined ? undefined : policy.fleetTokens?.known(match[1]);
    if (fleet !== undefined) return { kind: 'scoped', scope: fleet.scope, via: fleet };
    throw refuseWrongToken(policy, req, 'Invalid token.');
  }
  const cookie = readCookie(req.cookie, SESSION_COOKIE);
  if (cookie !== undefined && (cookieValid(cookie) || policy.cookieValid?.(cookie) === true)) return { kind: 'owner' };
  throw new CorralError('UNAUTHORIZED', 'Missing token: send Authorization: Bearer <token> (see `corral token`).');
}

/**
 * A bearer token this node cannot judge alone (a session's scoped token another node of the fleet issued) is looked
 * up before the door's check, which stays synchronous. Nothing to do for the owner's token, a token of this node, a
 * string that is no scoped token, a request without one, or a daemon not in a fleet.
 */
export async function resolveFleetToken(policy: DoorPolicy, req: DoorRequest): Promise<void> {
  if (policy.fleetTokens === undefined || req.clusterToken !== undefined || req.authorization === undefined) return;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization)?.[1];
  if (token === undefined || tokensEqual(token, policy.token) || policy.scopedToken?.(token) !== undefined) return;
  // A peer already over its wrong-token budget gets its 429 without an etcd read: made-up tokens must not turn the
  // door into a way to load etcd.
  if (policy.failures?.limited(req.peer ?? 'unknown') === true) return;
  await policy.fleetTokens.resolve(token);
}

/** A wrong token, counted per peer: past a burst it is answered 429 (the right token is never counted or slowed). */
function refuseWrongToken(policy: DoorPolicy, req: DoorRequest, message: string): CorralError {
  const retryAfterSeconds = policy.failures?.fail(req.peer ?? 'unknown') ?? 0;
  if (retryAfterSeconds > 0) {
    return new CorralError('RATE_LIMITED', `Too many wrong tokens from this address; retry in ${retryAfterSeconds} s with the right one.`, {
      retryAfterSeconds,
    });
  }
  return new CorralError('UNAUTHORIZED', message);
}

/**
 * Whether the request carries the daemon's token: a public route (the health check) tells its owner more than a
 * stranger, and a session's scoped token counts as a stranger there.
 */
export function hasToken(policy: DoorPolicy, req: DoorRequest, cookieValid: (value: string) => boolean): boolean {
  try {
    return checkToken(policy, req, cookieValid).kind === 'owner';
  } catch (error) {
    // A refusal (no token, a wrong one, rate-limited) only means "not the owner" here.
    if (isCorralError(error)) return false;
    throw error;
  }
}
