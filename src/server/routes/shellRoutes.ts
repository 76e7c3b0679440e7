// REST routes of issue 3 (PRODUCT §1.2, §1.3, §1.7): exec in a shell session, the filtered line view and
// search of output, templates and macros. Thin: validate with the shared schemas, call the engine.

import { z } from 'zod';
import {
  linesQuerySchema,
  macroBodySchema,
  MAX_LINES,
  presetNameSchema,
  searchQuerySchema,
  shellExecSchema,
  templateBodySchema,
} from '../../protocol/api.js';
import type { RouteTable } from '../routeTable.js';
import { idParams } from './sessionRoutes.js';
import type { AppContext } from '../appContext.js';

const nameParams = z.object({ name: presetNameSchema });
const runParams = idParams.extend({ name: presetNameSchema });
const namedTemplate = templateBodySchema.extend({ name: presetNameSchema });
const namedMacro = macroBodySchema.extend({ name: presetNameSchema });
/** Default lines per line-view page and matches per search. */
const DEFAULT_LINES = 1000;
const DEFAULT_MATCHES = 100;

export function registerShellRoutes(routes: RouteTable, ctx: AppContext): void {
  const { engine } = ctx;

  routes.add({
    method: 'POST',
    url: '/sessions/:id/commands',
    summary:
      'exec in a shell session: output between the shell\'s own command marks, exit code, cwd; past timeoutMs the ' +
      'command keeps running (timedOut). Refused with SESSION_BUSY (409) while a command runs',
    tag: 'shell',
    scope: 'session',
    params: idParams,
    body: shellExecSchema,
    handler: ({ params, body, signal }) => engine.sessions.shellExec(params.id, body, signal),
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/lines',
    summary: 'Line view of output (text per line, with its offset), filtered server-side by include/exclude regexes',
    tag: 'shell',
    scope: 'session',
    params: idParams,
    query: linesQuerySchema,
    handler: ({ params, query }) =>
      engine.sessions.lines(params.id, {
        since: query.since ?? 0,
        include: query.include,
        exclude: query.exclude,
        ignoreCase: query.ignoreCase === 'true',
        limit: Math.min(query.limit ?? DEFAULT_LINES, MAX_LINES),
        stream: query.stream ?? 'combined',
      }),
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/search',
    summary: "Search a session's kept output (memory and disk journal) for a regex: byte offsets and line excerpts",
    tag: 'shell',
    scope: 'session',
    params: idParams,
    query: searchQuerySchema,
    handler: ({ params, query }) =>
      engine.sessions.search(params.id, {
        pattern: query.pattern,
        ignoreCase: query.ignoreCase === 'true',
        since: query.since,
        limit: query.limit ?? DEFAULT_MATCHES,
        stream: query.stream ?? 'combined',
      }),
  });

  // ---- templates ----

  routes.add({
    method: 'GET',
    url: '/templates',
    summary: 'Session templates (named presets of POST /sessions)',
    tag: 'templates',
    handler: () => ({ templates: engine.presets.templates.list() }),
  });
  routes.add({
    method: 'POST',
    url: '/templates',
    summary: 'Create or replace a template { name, profile?, command?, env?, cols?, rows?, limits?, autoAnswer?, … }',
    tag: 'templates',
    body: namedTemplate,
    status: 201,
    handler: ({ body, reply }) => {
      const { name, ...template } = body;
      reply.code(201);
      return engine.presets.templates.put(name, template);
    },
  });
  routes.add({
    method: 'GET',
    url: '/templates/:name',
    summary: 'One template',
    tag: 'templates',
    params: nameParams,
    handler: ({ params }) => engine.presets.templates.get(params.name),
  });
  routes.add({
    method: 'PUT',
    url: '/templates/:name',
    summary: 'Create or replace a template by name',
    tag: 'templates',
    params: nameParams,
    body: templateBodySchema,
    handler: ({ params, body }) => engine.presets.templates.put(params.name, body),
  });
  routes.add({
    method: 'DELETE',
    url: '/templates/:name',
    summary: 'Delete a template (sessions made from it are unaffected)',
    tag: 'templates',
    params: nameParams,
    handler: ({ params }) => {
      engine.presets.templates.delete(params.name);
      return { ok: true, name: params.name };
    },
  });

  // ---- macros ----

  routes.add({
    method: 'GET',
    url: '/macros',
    summary: 'Macros (named step lists runnable on any session)',
    tag: 'macros',
    handler: () => ({ macros: engine.presets.macros.list() }),
  });
  routes.add({
    method: 'POST',
    url: '/macros',
    summary: 'Create or replace a macro { name, steps: [send | keys | waitState | waitPattern | sleep] }',
    tag: 'macros',
    body: namedMacro,
    status: 201,
    handler: ({ body, reply }) => {
      const { name, ...macro } = body;
      reply.code(201);
      return engine.presets.macros.put(name, macro);
    },
  });
  routes.add({
    method: 'GET',
    url: '/macros/:name',
    summary: 'One macro',
    tag: 'macros',
    params: nameParams,
    handler: ({ params }) => engine.presets.macros.get(params.name),
  });
  routes.add({
    method: 'PUT',
    url: '/macros/:name',
    summary: 'Create or replace a macro by name',
    tag: 'macros',
    params: nameParams,
    body: macroBodySchema,
    handler: ({ params, body }) => engine.presets.macros.put(params.name, body),
  });
  routes.add({
    method: 'DELETE',
    url: '/macros/:name',
    summary: 'Delete a macro',
    tag: 'macros',
    params: nameParams,
    handler: ({ params }) => {
      engine.presets.macros.delete(params.name);
      return { ok: true, name: params.name };
    },
  });
  routes.add({
    method: 'POST',
    url: '/sessions/:id/macros/:name/run',
    summary: 'Run a macro on a session: a result per step; a wait that times out fails the run at that step (ok: false)',
    tag: 'macros',
    params: runParams,
    handler: ({ params, signal }) => engine.presets.macros.run(params.id, params.name, signal),
  });
}
