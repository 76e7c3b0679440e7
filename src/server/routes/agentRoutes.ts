// REST routes for agent sessions (PRODUCT §1.3–§1.5, §2.1): the original design's `POST /sessions/claude` and
// `GET /stats/claude`, and `prompt` / `answer` for any agent session. Thin: validate, call the engine, return.

import { z } from 'zod';
import { answerSchema, claudeSessionSchema, promptSchema } from '../../protocol/api.js';
import { AgentService } from '../../engine/agent/AgentService.js';
import type { RouteTable } from '../routeTable.js';
import { idParams } from './sessionRoutes.js';
import type { AppContext } from '../app.js';

const profileParams = z.object({ profile: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_-]*$/) });

export function registerAgentRoutes(routes: RouteTable, ctx: AppContext): void {
  const { manager } = ctx;

  routes.add({
    method: 'POST',
    url: '/sessions/claude',
    summary: 'Create a Claude Code session (SessionConfig: taskId, projectPath, terminalSize, environment, authToken; home, preAnswer, autoAnswer, worktree); idempotent per taskId',
    tag: 'agents',
    body: claudeSessionSchema,
    handler: async ({ body, reply }) => {
      if (body.taskId !== undefined && body.forceNew !== true) {
        const existing = manager.liveSessionForTask(body.taskId);
        if (existing !== undefined) {
          reply.code(200);
          return existing.toInfo();
        }
      }
      const worktree = body.worktree;
      const path = worktree === undefined ? undefined : await manager.agents.createWorktree({ ...worktree, keep: worktree.keep === true });
      try {
        const request = AgentService.claudeRequest(body, path === undefined ? body.projectPath : undefined);
        const { session, existing } = manager.create(request, { cwd: path });
        if (worktree !== undefined && path !== undefined) {
          manager.agents.adoptWorktree(session.id, { repo: worktree.repo, path, keep: worktree.keep === true });
        }
        reply.code(existing ? 200 : 201);
        return session.toInfo();
      } catch (error) {
        // The session never started: the worktree made for it goes too.
        if (worktree !== undefined && path !== undefined) await manager.agents.discardWorktree(worktree.repo, path);
        throw error;
      }
    },
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/prompt',
    summary: "Submit a prompt to an agent session (bracketed paste, submit key); waits for the turn to end or a question; answers { state, reply, session }",
    tag: 'agents',
    params: idParams,
    body: promptSchema,
    handler: ({ params, body, signal }) => manager.agents.prompt(manager.get(params.id), body, signal),
  });

  routes.add({
    method: 'POST',
    url: '/sessions/:id/answer',
    summary: 'Answer the dialog on an agent session\'s screen by option number or text (trust, API key, permission, …)',
    tag: 'agents',
    params: idParams,
    body: answerSchema,
    handler: ({ params, body, signal }) => manager.agents.answer(manager.get(params.id), body, signal),
  });

  routes.add({
    method: 'GET',
    url: '/stats/:profile',
    summary: 'Agent stats for a profile (e.g. /stats/claude): live sessions by state, prompts, turn durations, errors, hooks',
    tag: 'agents',
    params: profileParams,
    handler: ({ params }) => {
      manager.profileRegistry.get(params.profile);
      return manager.agents.stats(manager.liveSessions(), params.profile);
    },
  });
}
