// Builds the HTTP face: Fastify with the door checks on every request, one error mapping, and the routes.
// It holds no session state of its own; everything goes through the engine. A stranger (no token) is answered
// without reading their body and the connection is closed; connections and slow clients are bounded here.

import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { CorralError, isCorralError, type ErrorBody, type ErrorCode } from '../protocol/errors.js';
import { API_PREFIX, type AppContext } from './appContext.js';
import { checkHostAndOrigin, checkToken, doorRequestOf, resolveFleetToken } from './auth.js';
import { AuthFailureLimiter } from './authFailures.js';
import { ConnectionGuard, connectionLimits } from './ConnectionGuard.js';
import { RouteTable, type RouteAccess } from './routeTable.js';
import { setScopedCaller } from './callers.js';
import { registerSessionRoutes } from './routes/sessionRoutes.js';
import { healthReply, registerSystemRoutes } from './routes/systemRoutes.js';
import { registerAgentRoutes } from './routes/agentRoutes.js';
import { registerShellRoutes } from './routes/shellRoutes.js';

/** Largest JSON body: an input write of 1 MiB (MAX_INPUT_BYTES) plus JSON escaping headroom. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
/** A client has this long to send its request headers: a local one takes microseconds; this cuts slowloris. */
export const HEADERS_TIMEOUT_MS = 10_000;
/**
 * ...and this long for the whole request, body included (2 MiB over loopback takes milliseconds). The answer may
 * take as long as it needs: Node stops this clock once the request is read, so hour-long waits are not cut.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this (Node's default; Fastify's 72 s let strangers linger). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often Node checks those two timeouts (its default of 30 s would let a stalled client hold on for 40 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Retry-After of a 429 or 503 that names no time of its own (a session slot to free, a daemon restarting). */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** The descriptor limit assumed when the caller gives none (Linux's default soft limit). */
const DEFAULT_OPEN_FILES = 1024;

/** Refusals at the door: the caller has no business here, so their body is never read and the connection is closed. */
const DOOR_REFUSALS: ReadonlySet<ErrorCode> = new Set(['UNAUTHORIZED', 'RATE_LIMITED', 'FORBIDDEN_HOST', 'FORBIDDEN_ORIGIN']);

export interface BuiltApp {
  app: FastifyInstance;
  routes: RouteTable;
  /** The connection caps; `trust` marks a connection that showed the token. */
  connections: ConnectionGuard;
  /** Wrong tokens per peer (for metrics). */
  authFailures: AuthFailureLimiter;
}

/** Sends a catalog error: the one place REST answers fail, with Retry-After and Connection: close where they apply. */
export function sendError(reply: FastifyReply, error: CorralError): void {
  if (error.retryAfterSeconds !== undefined || error.status === 429 || error.status === 503) {
    void reply.header('retry-after', String(error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS));
  }
  if (DOOR_REFUSALS.has(error.code)) void reply.header('connection', 'close');
  void reply.code(error.status).send(error.toBody() satisfies ErrorBody);
}

export function buildApp(ctx: AppContext): BuiltApp {
  const serverTimeouts = { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS };
  // With TLS (`--tls-cert`), the same timeouts and a handshake that must finish as soon as headers must arrive: a
  // stranger who opens connections and never completes a handshake is cut like a slow header sender.
  const transport = ctx.tls === undefined ? { http: serverTimeouts } : { https: { ...ctx.tls, ...serverTimeouts, handshakeTimeout: HEADERS_TIMEOUT_MS } };
  // Fastify types an HTTPS instance apart from an HTTP one; everything Corral uses of the server (listen, address,
  // the upgrade and connection events) is the same on both.
  const app = Fastify({
    ...(transport as { http: typeof serverTimeouts }),
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Requests are not logged one by one: the API is chatty by design (long-polls, dashboards refreshing).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Our own 503 while closing (below): Fastify's has neither the catalog shape nor Retry-After.
    return503OnClosing: false,
    // Errors the router raises before any route or hook (a bad %-escape, an overlong segment): the catalog shape too.
    frameworkErrors: (error, _request, reply) => sendError(reply, toCorralError(error)),
    clientErrorHandler: answerClientError,
  });
  const routes = new RouteTable(ctx.engine.tokens);
  const connections = new ConnectionGuard(app.server, connectionLimits(ctx.openFiles ?? DEFAULT_OPEN_FILES));
  const authFailures = ctx.door.failures ?? new AuthFailureLimiter();
  ctx.door.failures = authFailures;
  ctx.door.trust = (socket) => connections.trust(socket);
  app.addHook('onClose', () => connections.dispose());

  // JSON bodies must be valid UTF-8: the default parser would quietly turn bad bytes into U+FFFD.
  app.removeContentTypeParser('application/json');
  // The API speaks JSON only: a text/plain body would reach a route as a string and fail as a confusing
  // "expected object"; without its parser it is refused as 415 UNSUPPORTED_MEDIA_TYPE.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    if (!isUtf8(body)) {
      done(new CorralError('INVALID_UTF8', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (error) {
      done(new CorralError('BAD_REQUEST', `The request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });

  /**
   * The door: Host and Origin always, the token unless the route is public. Runs before any body is read. A session's
   * scoped token passes only into routes open to it (`scoped` in the route's config names the face that confines it).
   */
  const passDoor = (
    request: { headers: Record<string, string | string[] | undefined>; url: string; method: string; raw: IncomingMessage & { socket: Socket } },
    config: RouteAccess,
  ): void => {
    const door = doorRequestOf(request.headers, request.url, request.raw.socket.remoteAddress);
    checkHostAndOrigin(ctx.door, door);
    if (config.public === true) return;
    const principal = checkToken(ctx.door, door, ctx.cookieValid ?? (() => false));
    connections.trust(request.raw.socket);
    if (principal.kind === 'owner') return;
    const caller = { scope: principal.scope, face: config.scoped ?? 'rest' };
    if (config.scoped === undefined) {
      throw ctx.engine.tokens.refuse(caller, `${request.method} ${request.url.split('?')[0] ?? ''}`, null, 'This route is not open to a session\'s token.');
    }
    setScopedCaller(request.raw, caller);
  };
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (request) => {
    if (closing) throw new CorralError('SHUTTING_DOWN', 'The daemon is shutting down; retry once it is back.', { retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS });
    const config = (request.routeOptions.config as RouteAccess | undefined) ?? {};
    // A fleet: a session's token issued by another node is looked up in etcd first (the door's check is sync).
    if (ctx.door.fleetTokens !== undefined && config.public !== true) {
      const door = doorRequestOf(request.headers, request.url, request.raw.socket.remoteAddress);
      checkHostAndOrigin(ctx.door, door);
      await resolveFleetToken(ctx.door, door);
    }
    passDoor(request, config);
  });

  app.setErrorHandler((error: FastifyError | CorralError | Error, request, reply) => {
    const mapped = toCorralError(error, request.routeOptions.bodyLimit);
    // A temporary refusal with a Retry-After (a locked store, a full disk) is the caller's to retry, not our failure.
    if (mapped.status >= 500 && mapped.retryAfterSeconds === undefined) request.log.error({ err: error, url: request.url }, 'request failed');
    sendError(reply, mapped);
  });
  app.setNotFoundHandler((request, reply) => {
    // Unknown routes still pass the door: an unauthenticated caller learns nothing about what exists.
    try {
      passDoor(request, {});
    } catch (error) {
      sendError(reply, toCorralError(error as Error));
      return;
    }
    sendError(reply, new CorralError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });

  registerSessionRoutes(routes, ctx);
  registerSystemRoutes(routes, ctx, connections);
  app.get('/healthz', { config: { public: true } }, (request) => healthReply(ctx, connections, request));
  registerAgentRoutes(routes, ctx);
  registerShellRoutes(routes, ctx);
  routes.add({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'system',
    handler: () => routes.openapi({ title: 'Corral', version: ctx.version }, API_PREFIX),
  });
  routes.register(app, API_PREFIX);
  return { app, routes, connections, authFailures };
}

/** `bodyLimit`: the limit of the route that refused a body (the login form's is far below the API's). */
export function toCorralError(error: FastifyError | CorralError | Error, bodyLimit = BODY_LIMIT_BYTES): CorralError {
  if (isCorralError(error)) return error;
  const code = (error as FastifyError).code;
  const status = (error as FastifyError).statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return new CorralError('PAYLOAD_TOO_LARGE', `The request body is larger than ${bodyLimit} bytes.`);
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new CorralError('UNSUPPORTED_MEDIA_TYPE', 'Send JSON bodies with Content-Type: application/json.');
  }
  if (code === 'FST_ERR_BAD_URL') {
    return new CorralError('BAD_URL', 'The URL has a malformed %-escape; encode path segments with encodeURIComponent.');
  }
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return new CorralError('URL_TOO_LONG', 'A path segment of the URL is longer than any id Corral gives out.');
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new CorralError('BAD_REQUEST', error.message);
  }
  if (status !== undefined && status >= 400 && status < 500) return new CorralError('BAD_REQUEST', error.message);
  return new CorralError('INTERNAL', 'Internal error; the daemon log has the details.', { cause: error });
}

/**
 * Errors Node raises before Fastify sees a request (malformed HTTP, headers past their size or time): answered in
 * the catalog shape, then the connection is closed. ECONNRESET or a destroyed socket: nobody is left to answer.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const mapped =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new CorralError('REQUEST_TIMEOUT', `The request did not arrive within ${HEADERS_TIMEOUT_MS / 1000} s (headers) or ${REQUEST_TIMEOUT_MS / 1000} s (all of it).`)
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new CorralError('HEADERS_TOO_LARGE', 'The request headers are larger than the server reads.')
        : new CorralError('BAD_REQUEST', 'Malformed HTTP request.');
  const body = JSON.stringify(mapped.toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
