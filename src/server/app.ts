// Builds the HTTP face: Fastify with the door checks on every request, one error mapping, and the routes.
// It holds no session state of its own; everything goes through the engine.

import { isUtf8 } from 'node:buffer';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { CorralError, isCorralError, type ErrorBody } from '../protocol/errors.js';
import { API_PREFIX, type AppContext } from './appContext.js';
import { checkHostAndOrigin, checkToken, doorRequestOf } from './auth.js';
import { RouteTable } from './routeTable.js';
import { registerSessionRoutes } from './routes/sessionRoutes.js';
import { registerSystemRoutes } from './routes/systemRoutes.js';
import { registerAgentRoutes } from './routes/agentRoutes.js';
import { registerShellRoutes } from './routes/shellRoutes.js';

/** Largest JSON body: an input write of 1 MiB (MAX_INPUT_BYTES) plus JSON escaping headroom. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
export interface BuiltApp {
  app: FastifyInstance;
  routes: RouteTable;
}

export function buildApp(ctx: AppContext): BuiltApp {
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Requests are not logged one by one: the API is chatty by design (long-polls, dashboards refreshing).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Long-polls (wait, prompt) can legitimately take an hour; the engine bounds them itself.
    requestTimeout: 0,
    return503OnClosing: true,
  });
  const routes = new RouteTable();

  // JSON bodies must be valid UTF-8: the default parser would quietly turn bad bytes into U+FFFD.
  app.removeContentTypeParser('application/json');
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

  app.addHook('onRequest', async (request) => {
    const door = doorRequestOf(request.headers, request.url);
    checkHostAndOrigin(ctx.door, door);
    const routeConfig = request.routeOptions.config as { public?: boolean } | undefined;
    if (routeConfig?.public === true) return;
    checkToken(ctx.door, door, ctx.cookieValid ?? (() => false));
  });

  app.setErrorHandler((error: FastifyError | CorralError | Error, request, reply) => {
    const mapped = toCorralError(error, request.routeOptions.bodyLimit);
    if (mapped.status >= 500 && mapped.retryAfterSeconds === undefined) request.log.error({ err: error, url: request.url }, 'request failed');
    if (mapped.retryAfterSeconds !== undefined) void reply.header('retry-after', String(mapped.retryAfterSeconds));
    void reply.code(mapped.status).send(mapped.toBody() satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) => {
    // Unknown routes still pass the door: an unauthenticated caller learns nothing about what exists.
    const door = doorRequestOf(request.headers, request.url);
    try {
      checkHostAndOrigin(ctx.door, door);
      checkToken(ctx.door, door, ctx.cookieValid ?? (() => false));
    } catch (error) {
      const mapped = toCorralError(error as Error);
      void reply.code(mapped.status).send(mapped.toBody());
      return;
    }
    void reply.code(404).send(new CorralError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`).toBody());
  });

  registerSessionRoutes(routes, ctx);
  registerSystemRoutes(routes, ctx);
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
  return { app, routes };
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
    return new CorralError('BAD_REQUEST', 'Send JSON bodies with Content-Type: application/json.');
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new CorralError('BAD_REQUEST', error.message);
  }
  if (status !== undefined && status >= 400 && status < 500) return new CorralError('BAD_REQUEST', error.message);
  return new CorralError('INTERNAL', 'Internal error; the daemon log has the details.', { cause: error });
}
