// REST routes for sessions and tasks (PRODUCT §2.1, §5). Thin: validate with the shared schemas, call the engine.

import { z } from 'zod';
import {
  createSessionSchema,
  deleteQuerySchema,
  execSchema,
  inputSchema,
  listQuerySchema,
  outputQuerySchema,
  pageQuerySchema,
  resizeSchema,
  signalSchema,
  pruneSchema,
  taskIdSchema,
  updateSessionSchema,
  waitSchema,
} from '../../protocol/api.js';
import { CorralError } from '../../protocol/errors.js';
import type { RouteTable } from '../routeTable.js';
import type { AppContext } from '../appContext.js';

/** A session id in a path; not format-checked so an unknown or malformed id answers 404 SESSION_NOT_FOUND. */
export const idParams = z.object({ id: z.string().min(1).max(128) });
const taskParams = z.object({ taskId: taskIdSchema });
const screenQuery = z.object({ scrollback: z.coerce.number().int().min(0).max(2000).optional() }).strict();
/** Default page of output: 1 MiB keeps a JSON reply small enough for any client; page on with nextOffset. */
const DEFAULT_OUTPUT_READ_BYTES = 1024 * 1024;
const DEFAULT_PAGE = 100;

export function registerSessionRoutes(routes: RouteTable, ctx: AppContext): void {
  const { engine } = ctx;

  routes.add({
    method: 'POST',
    url: '/sessions',
    summary: 'Create a session (any profile or kind); idempotent per taskId unless forceNew',
    tag: 'sessions',
    scope: 'caller',
    body: createSessionSchema,
    handler: async ({ body, reply, caller }) => {
      // A fleet's front door takes `node` and `nodeSelector` away before the request gets here (src/fleet/); still
      // present, they reached a daemon that is not in a fleet.
      const { node, nodeSelector, ...request } = body;
      if (node !== undefined || nodeSelector !== undefined) {
        throw new CorralError('NODE_NOT_FOUND', 'This daemon is not part of a fleet (started without --cluster): give no node or nodeSelector.');
      }
      const { session, existing } = await engine.sessions.create(request, caller);
      reply.code(existing ? 200 : 201);
      return session;
    },
  });

  routes.add({
    method: 'GET',
    url: '/sessions',
    summary: 'List sessions, newest first (live and ended; filter by state, task, profile)',
    tag: 'sessions',
    scope: 'caller',
    query: listQuerySchema,
    handler: ({ query, caller }) => {
      // A session's token lists its own task (or, without a task, itself).
      if (caller !== undefined && caller.scope.taskId === null) return { sessions: [engine.sessions.info(caller.scope.sessionId)], nextCursor: null };
      if (caller !== undefined && query.taskId !== undefined && query.taskId !== caller.scope.taskId) {
        throw engine.tokens.refuse(caller, 'GET /api/v1/sessions', query.taskId, `This token may list task ${caller.scope.taskId ?? ''} only.`);
      }
      return engine.sessions.list({
        state: query.state,
        taskId: caller?.scope.taskId ?? query.taskId,
        profile: query.profile,
        live: query.live === undefined ? undefined : query.live === 'true',
        limit: query.limit ?? DEFAULT_PAGE,
        cursor: query.cursor,
      });
    },
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id',
    summary: 'One session',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    handler: ({ params }) => engine.sessions.info(params.id),
  });

  routes.add({
    method: 'PATCH',
    url: '/sessions/:id',
    summary: 'Rename a live session ({ name }, null clears it); the new name is kept across daemon restarts',
    tag: 'sessions',
    params: idParams,
    body: updateSessionSchema,
    handler: ({ params, body }) => engine.sessions.rename(params.id, body.name),
  });

  routes.add({
    method: 'DELETE',
    url: '/sessions/:id',
    summary: 'End a session: polite exit, SIGINT, SIGTERM, SIGKILL, then a sweep of its whole tree; ?purge=true also removes it',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    query: deleteQuerySchema,
    handler: ({ params, query }) =>
      query.purge === 'true'
        ? engine.sessions.purge(params.id, { force: query.force === 'true' })
        : engine.sessions.terminate(params.id, { force: query.force === 'true' }),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/prune',
    summary: 'Remove every ended session (record, history, output) that ended more than olderThanMs ago',
    tag: 'sessions',
    body: pruneSchema,
    handler: ({ body }) => engine.sessions.prune(body.olderThanMs),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/input',
    summary: 'Write text and/or named keys (Enter, Escape, Up, C-c, M-x, …) to the session',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    body: inputSchema,
    handler: ({ params, body }) => ({ ok: true, session: engine.sessions.input(params.id, body) }),
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/output',
    summary: 'Read output by cursor (never consumes): raw (base64 or utf8) or text',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    query: outputQuerySchema,
    handler: ({ params, query }) =>
      engine.sessions.output(params.id, {
        since: query.since ?? 0,
        format: query.format ?? 'raw',
        encoding: query.encoding ?? (query.format === 'text' ? 'utf8' : 'base64'),
        maxBytes: query.limit ?? DEFAULT_OUTPUT_READ_BYTES,
        stream: query.stream ?? 'combined',
      }),
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/screen',
    summary: 'The rendered terminal: rows of text, cursor, title; optional scrollback lines',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    query: screenQuery,
    handler: ({ params, query }) => engine.sessions.screen(params.id, { scrollback: query.scrollback }),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/resize',
    summary: 'Resize the terminal (SIGWINCH reaches the program)',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    body: resizeSchema,
    handler: ({ params, body }) => engine.sessions.resize(params.id, body.cols, body.rows),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/interrupt',
    summary: "Interrupt: the profile's interrupt keys (Ctrl-C) in a terminal, SIGINT for a pipe session",
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    handler: ({ params }) => engine.sessions.interrupt(params.id),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/signal',
    summary: "Send a signal to the session's process group",
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    body: signalSchema,
    handler: ({ params, body }) => engine.sessions.signal(params.id, body.signal),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/wait',
    summary: 'Long-poll until a state, an output pattern, or exit (or the timeout)',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    body: waitSchema,
    handler: async ({ params, body, signal }) => {
      const result = await engine.sessions.wait(params.id, body, signal);
      return { matched: result.matched, outcome: result.outcome, session: result.session };
    },
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/events',
    summary: 'State transitions of a session ({ from, to, at, reason, source })',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    query: pageQuerySchema,
    handler: ({ params, query }) => {
      const events = engine.sessions.events(params.id, query.after ?? 0, query.limit ?? 1000);
      const last = events.at(-1);
      return { events, nextCursor: last === undefined ? null : String(last.seq) };
    },
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/commands',
    summary: 'Command and prompt history of a session',
    tag: 'sessions',
    scope: 'session',
    params: idParams,
    query: pageQuerySchema,
    handler: ({ params, query }) => {
      const commands = engine.sessions.commands(params.id, query.after ?? 0, query.limit ?? DEFAULT_PAGE);
      const last = commands.at(-1);
      return { commands, nextCursor: last === undefined ? null : String(last.seq) };
    },
  });

  routes.add({
    method: 'POST',
    url: '/exec',
    summary: 'One-shot command in a pipe session; past its timeout it keeps running and the reply names it',
    tag: 'sessions',
    scope: 'caller',
    body: execSchema,
    handler: ({ body, signal, caller }) => engine.sessions.exec(body, signal, caller),
  });

  routes.add({
    method: 'GET',
    url: '/tasks/:taskId',
    summary: "A task's sessions (the live one first)",
    tag: 'tasks',
    scope: 'task',
    params: taskParams,
    handler: ({ params }) => engine.tasks.get(params.taskId),
  });

  routes.add({
    method: 'DELETE',
    url: '/tasks/:taskId',
    summary: "End a task: terminate and clean up its live sessions",
    tag: 'tasks',
    scope: 'task',
    params: taskParams,
    handler: ({ params }) => engine.tasks.end(params.taskId),
  });
}
