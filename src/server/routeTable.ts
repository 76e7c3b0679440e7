// Schema-first routes: each route names its zod schemas once; the same schemas validate the request, type the
// handler and produce the OpenAPI document. Handlers stay thin: parse, call the engine, return.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CorralError } from '../protocol/errors.js';
import type { ScopedCaller } from '../engine/engineTypes.js';
import { scopedCallerOf } from './callers.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  request: FastifyRequest;
  reply: FastifyReply;
  /** Aborted when the client goes away (long-polls stop waiting). */
  signal: AbortSignal;
  /** Set when a session's scoped token sent the request (only routes with `scope: 'caller'` act on it themselves). */
  caller: ScopedCaller | undefined;
}

/**
 * What a session's scoped token may do on a route: `session` (the `:id` of the path must be in its scope), `task`
 * (the `:taskId` must be its task), `caller` (the handler confines the request itself: creates, lists). A route
 * without `scope` is closed to scoped tokens (TOKEN_SCOPE at the door).
 */
export type RouteScope = 'session' | 'task' | 'caller';

/** A Fastify route's config as the door reads it: public (no token), and which face confines a scoped token. */
export interface RouteAccess {
  public?: boolean;
  scoped?: ScopedCaller['face'];
}

/** The engine's checks of a scoped caller (engine.tokens). */
export interface ScopeGate {
  checkSession(caller: ScopedCaller, id: string, action: string): void;
  checkTask(caller: ScopedCaller, taskId: string, action: string): void;
}

export interface RouteDef<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Status of a successful reply (default 200). */
  status?: number;
  /** Skip the token (only the health check). */
  public?: boolean;
  /** What a session's scoped token may do here; absent: nothing. */
  scope?: RouteScope;
  handler: (ctx: RouteContext<z.infer<B>, z.infer<Q>, z.infer<P>>) => Promise<unknown> | unknown;
}

// Route definitions of different schema types live in one list; the handler is only ever called with values
// its own schemas produced.
type AnyRoute = RouteDef<z.ZodType, z.ZodType, z.ZodType>;

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const first = issues[0];
  throw new CorralError(
    'VALIDATION_FAILED',
    `Invalid ${where}${first === undefined ? '' : `: ${first.path === '' ? '' : `${first.path}: `}${first.message}`}`,
    { details: { issues } },
  );
}

/** A route served by its own raw handler (streams, MCP, login pages), listed in the OpenAPI document only. */
export type DescribedRoute = Omit<RouteDef<z.ZodType, z.ZodType, z.ZodType>, 'handler'> & { prefixed?: boolean };

export class RouteTable {
  private readonly routes: AnyRoute[] = [];
  private readonly described: DescribedRoute[] = [];
  /** Routes before this index are already registered with Fastify (faces add theirs after the core ones). */
  private registered = 0;

  /** `gate`: how scoped callers are checked; without one (a bare table in a test) no route is open to them. */
  constructor(private readonly gate?: ScopeGate) {}

  add<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType>(def: RouteDef<B, Q, P>): void {
    this.routes.push(def as unknown as AnyRoute);
  }

  /** Documents a route registered elsewhere. `prefixed: false` for routes outside the API prefix (e.g. /login). */
  describe(def: DescribedRoute): void {
    this.described.push(def);
  }

  isPublic(method: string, url: string): boolean {
    return this.routes.some((r) => r.public === true && r.method === method && r.url === url);
  }

  /** Registers every route added since the last call. */
  register(app: FastifyInstance, prefix: string): void {
    const pending = this.routes.slice(this.registered);
    this.registered = this.routes.length;
    for (const route of pending) {
      app.route({
        method: route.method,
        url: prefix + route.url,
        config: { public: route.public === true, ...(route.scope === undefined || this.gate === undefined ? {} : { scoped: 'rest' }) } satisfies RouteAccess,
        handler: async (request, reply) => {
          const controller = new AbortController();
          // The socket closing before we answered means the caller is gone: stop long waits.
          const onClose = (): void => {
            if (!reply.sent) controller.abort(new CorralError('BAD_REQUEST', 'client went away'));
          };
          request.raw.socket.once('close', onClose);
          try {
            // No body at all means "all defaults"; a body of `null` is a mistake, refused by the schema (never a default shell).
            const given = request.body === undefined ? {} : request.body;
            const body = route.body === undefined ? undefined : parseWith(route.body, given, 'request body');
            const query = route.query === undefined ? {} : parseWith(route.query, request.query ?? {}, 'query');
            const params = route.params === undefined ? request.params : parseWith(route.params, request.params, 'path');
            const caller = scopedCallerOf(request.raw);
            if (caller !== undefined) this.confine(route, caller, params, `${route.method} ${prefix}${route.url}`);
            reply.code(route.status ?? 200);
            const result = await route.handler({ body, query, params, request, reply, signal: controller.signal, caller });
            if (reply.sent) return reply;
            return result;
          } finally {
            request.raw.socket.off('close', onClose);
          }
        },
      });
    }
  }

  /** A scoped caller reaches the route's session or task only (the door already refused routes without a scope). */
  private confine(route: AnyRoute, caller: ScopedCaller, params: unknown, action: string): void {
    const path = params as { id?: unknown; taskId?: unknown };
    if (route.scope === 'session' && typeof path.id === 'string') this.gate?.checkSession(caller, path.id, action);
    if (route.scope === 'task' && typeof path.taskId === 'string') this.gate?.checkTask(caller, path.taskId, action);
  }

  openapi(info: { title: string; version: string }, prefix: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const all: DescribedRoute[] = [...this.routes, ...this.described];
    for (const route of all) {
      const path = ((route.prefixed === false ? '' : prefix) + route.url).replace(/:([A-Za-z]+)/g, '{$1}');
      const parameters: unknown[] = [];
      for (const name of [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1])) {
        parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
      }
      if (route.query !== undefined) {
        const schema = toJsonSchema(route.query);
        const props = (schema.properties ?? {}) as Record<string, unknown>;
        const required = (schema.required ?? []) as string[];
        for (const [name, prop] of Object.entries(props)) {
          parameters.push({ name, in: 'query', required: required.includes(name), schema: prop });
        }
      }
      const operation: Record<string, unknown> = {
        summary: route.summary,
        tags: [route.tag],
        parameters,
        responses: {
          [String(route.status ?? 200)]: { description: 'Success' },
          default: { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
        ...(route.public === true ? { security: [] } : {}),
      };
      if (route.body !== undefined) {
        operation.requestBody = { required: true, content: { 'application/json': { schema: toJsonSchema(route.body) } } };
      }
      paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
    }
    return {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      security: [{ bearer: [] }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        schemas: {
          Error: {
            type: 'object',
            required: ['error'],
            properties: {
              error: {
                type: 'object',
                required: ['code', 'message'],
                properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
              },
            },
          },
        },
      },
      paths,
    };
  }
}

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
