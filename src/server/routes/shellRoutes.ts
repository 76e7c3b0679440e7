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
import { shellExec } from '../../engine/shell/ShellExec.js';
import { lineView, rawReaderOf, searchOutput } from '../../engine/search/outputSearch.js';
import { deleteTemplate, getTemplate, listTemplates, putTemplate } from '../../engine/templates/templates.js';
import { deleteMacro, getMacro, listMacros, putMacro, runMacro } from '../../engine/macros/macros.js';
import type { RouteTable } from '../routeTable.js';
import { idParams } from './sessionRoutes.js';
import type { AppContext } from '../app.js';

const nameParams = z.object({ name: presetNameSchema });
const runParams = idParams.extend({ name: presetNameSchema });
const namedTemplate = templateBodySchema.extend({ name: presetNameSchema });
const namedMacro = macroBodySchema.extend({ name: presetNameSchema });
/** Default lines per line-view page and matches per search. */
const DEFAULT_LINES = 1000;
const DEFAULT_MATCHES = 100;

export function registerShellRoutes(routes: RouteTable, ctx: AppContext): void {
  const { manager } = ctx;

  routes.add({
    method: 'POST',
    url: '/sessions/:id/commands',
    summary:
      'exec in a shell session: output between the shell\'s own command marks, exit code, cwd; past timeoutMs the ' +
      'command keeps running (timedOut). Refused with SESSION_BUSY (409) while a command runs',
    tag: 'shell',
    params: idParams,
    body: shellExecSchema,
    handler: ({ params, body, signal }) => shellExec(manager.get(params.id), manager.history, body, signal),
  });

  const readerFor = (id: string, stream: 'combined' | 'stdout' | 'stderr') =>
    rawReaderOf((options) => manager.readOutput(id, options), stream);

  routes.add({
    method: 'GET',
    url: '/sessions/:id/lines',
    summary: 'Line view of output (text per line, with its offset), filtered server-side by include/exclude regexes',
    tag: 'shell',
    params: idParams,
    query: linesQuerySchema,
    handler: ({ params, query }) => {
      const ended = manager.find(params.id)?.isLive !== true;
      return lineView(readerFor(params.id, query.stream ?? 'combined'), {
        since: query.since ?? 0,
        include: query.include,
        exclude: query.exclude,
        ignoreCase: query.ignoreCase === 'true',
        limit: Math.min(query.limit ?? DEFAULT_LINES, MAX_LINES),
        ended,
      });
    },
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/search',
    summary: "Search a session's kept output (memory and disk journal) for a regex: byte offsets and line excerpts",
    tag: 'shell',
    params: idParams,
    query: searchQuerySchema,
    handler: ({ params, query }) => {
      const info = manager.info(params.id);
      const stream = query.stream ?? 'combined';
      const end = stream === 'combined' ? info.output.totalBytes : stream === 'stdout' ? info.output.stdoutBytes : info.output.stderrBytes;
      return searchOutput(readerFor(params.id, stream), {
        pattern: query.pattern,
        ignoreCase: query.ignoreCase === 'true',
        since: query.since,
        limit: query.limit ?? DEFAULT_MATCHES,
        end,
      });
    },
  });

  // ---- templates ----

  routes.add({
    method: 'GET',
    url: '/templates',
    summary: 'Session templates (named presets of POST /sessions)',
    tag: 'templates',
    handler: () => ({ templates: listTemplates(manager.store) }),
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
      return putTemplate(manager.store, name, template);
    },
  });
  routes.add({
    method: 'GET',
    url: '/templates/:name',
    summary: 'One template',
    tag: 'templates',
    params: nameParams,
    handler: ({ params }) => getTemplate(manager.store, params.name),
  });
  routes.add({
    method: 'PUT',
    url: '/templates/:name',
    summary: 'Create or replace a template by name',
    tag: 'templates',
    params: nameParams,
    body: templateBodySchema,
    handler: ({ params, body }) => putTemplate(manager.store, params.name, body),
  });
  routes.add({
    method: 'DELETE',
    url: '/templates/:name',
    summary: 'Delete a template (sessions made from it are unaffected)',
    tag: 'templates',
    params: nameParams,
    handler: ({ params }) => {
      deleteTemplate(manager.store, params.name);
      return { ok: true, name: params.name };
    },
  });

  // ---- macros ----

  routes.add({
    method: 'GET',
    url: '/macros',
    summary: 'Macros (named step lists runnable on any session)',
    tag: 'macros',
    handler: () => ({ macros: listMacros(manager.store) }),
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
      return putMacro(manager.store, name, macro);
    },
  });
  routes.add({
    method: 'GET',
    url: '/macros/:name',
    summary: 'One macro',
    tag: 'macros',
    params: nameParams,
    handler: ({ params }) => getMacro(manager.store, params.name),
  });
  routes.add({
    method: 'PUT',
    url: '/macros/:name',
    summary: 'Create or replace a macro by name',
    tag: 'macros',
    params: nameParams,
    body: macroBodySchema,
    handler: ({ params, body }) => putMacro(manager.store, params.name, body),
  });
  routes.add({
    method: 'DELETE',
    url: '/macros/:name',
    summary: 'Delete a macro',
    tag: 'macros',
    params: nameParams,
    handler: ({ params }) => {
      deleteMacro(manager.store, params.name);
      return { ok: true, name: params.name };
    },
  });
  routes.add({
    method: 'POST',
    url: '/sessions/:id/macros/:name/run',
    summary: 'Run a macro on a session: a result per step; a wait that times out fails the run at that step (ok: false)',
    tag: 'macros',
    params: runParams,
    handler: async ({ params, signal }) => {
      const macro = getMacro(manager.store, params.name);
      const session = manager.get(params.id);
      return { ...(await runMacro(session, macro, signal)), session: session.toInfo() };
    },
  });
}
