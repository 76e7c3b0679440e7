// REST routes for agent sessions (PRODUCT §1.3–§1.5, §2.1): the original design's `POST /sessions/claude` and
// `GET /stats/claude`, `POST /sessions/agent` (the same create for every agent profile), and `prompt` / `answer` for any agent session. Thin: validate, call the engine, return.

import { z } from 'zod';
import { agentSessionSchema, answerSchema, claudeSessionSchema, promptSchema } from '../../protocol/api.js';
import type { RouteTable } from '../routeTable.js';
import { idParams } from './sessionRoutes.js';
import type { AppContext } from '../appContext.js';

/** Conversation turns returned at most (the newest). */
const conversationQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }).strict();
const DEFAULT_CONVERSATION_TURNS = 200;

const profileParams = z.object({ profile: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_-]*$/) });

export function registerAgentRoutes(routes: RouteTable, ctx: AppContext): void {
  const { engine } = ctx;

  routes.add({
    method: 'POST',
    url: '/sessions/claude',
    summary: 'Create a Claude Code session (SessionConfig: taskId, projectPath, terminalSize, environment, authToken; home, preAnswer, autoAnswer, worktree); idempotent per taskId',
    tag: 'agents',
    body: claudeSessionSchema,
    handler: async ({ body, reply }) => {
      const { session, existing } = await engine.agents.createClaude(body);
      reply.code(existing ? 200 : 201);
      return session;
    },
  });

  routes.add({
    method: 'POST',
    url: '/sessions/agent',
    summary: 'Create an agent session of any agent profile (agent: claude, codex, gemini, …) with the same fields as /sessions/claude: taskId, projectPath, home, preAnswer, autoAnswer, worktree; idempotent per taskId',
    tag: 'agents',
    body: agentSessionSchema,
    handler: async ({ body, reply }) => {
      const { session, existing } = await engine.agents.create(body);
      reply.code(existing ? 200 : 201);
      return session;
    },
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/prompt',
    summary: "Submit a prompt to an agent session (bracketed paste, submit key); waits for the turn to end or a question; answers { state, reply, session }",
    tag: 'agents',
    scope: 'session',
    params: idParams,
    body: promptSchema,
    handler: ({ params, body, signal }) => engine.agents.prompt(params.id, body, signal),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/answer',
    summary: 'Answer the dialog on an agent session\'s screen by option number or text (trust, API key, permission, …)',
    tag: 'agents',
    scope: 'session',
    params: idParams,
    body: answerSchema,
    handler: ({ params, body, signal }) => engine.agents.answer(params.id, body, signal),
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/dialog',
    summary: "What an agent session asks now: the dialog on its screen (question, context, options for …/answer, since) and the agent's last reply",
    tag: 'agents',
    params: idParams,
    handler: ({ params }) => engine.agents.dialog(params.id),
  });

  routes.add({
    method: 'GET',
    url: '/sessions/:id/conversation',
    summary: "An agent session's prompts and replies, oldest first (the CLI's transcript, else the prompts Corral submitted)",
    tag: 'agents',
    params: idParams,
    query: conversationQuery,
    handler: ({ params, query }) => engine.agents.conversation(params.id, query.limit ?? DEFAULT_CONVERSATION_TURNS),
  });

  routes.add({
    method: 'GET',
    url: '/stats/:profile',
    summary: 'Agent stats for a profile (e.g. /stats/claude): live sessions by state, prompts, turn durations, errors, hooks',
    tag: 'agents',
    params: profileParams,
    handler: ({ params }) => engine.agents.stats(params.profile),
  });
}
