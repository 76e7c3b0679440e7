// `create_session`: starts a shell, an agent CLI, any program or a stored template as a session.

import { z } from 'zod';
import { createSessionSchema, worktreeSchema, type AgentSessionRequest } from '../../protocol/api.js';
import { CorralError } from '../../protocol/errors.js';
import { ok, guarded } from './toolResults.js';
import { sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

const create = createSessionSchema.shape;

export const createSessionTool: CorralTool = {
  name: 'create_session',
  register(server, { backend }) {
    server.registerTool(
      'create_session',
      {
        title: 'Start a session',
        description:
          'Start a terminal session: an interactive shell (profile "shell", the default with no command), an agent CLI (profile "claude", "codex", "gemini"), ' +
          'or any program (give "command" as argv), or from a stored template (its fields under yours). It keeps running until terminate_session. ' +
          'With a taskId that already has a live session, that session is returned (forceNew: true starts another). ' +
          'Then: exec_command (shells), prompt_agent (agents), send_input, wait_for, read_output / read_screen.',
        inputSchema: z.strictObject({
          template: create.template.describe('Name of a stored session template (profile, command, env, size, limits); fields given here win.'),
          profile: create.profile.describe('Profile name: shell, command, claude, codex, gemini, or a user-defined one.'),
          command: create.command.describe('argv, e.g. ["python3", "-i"] (no shell parsing).'),
          cwd: create.cwd.describe('Working directory under a workspace root (default: the first root).'),
          env: create.env.describe('Extra environment variables.'),
          taskId: create.taskId.describe('Your task id; one live session per task.'),
          name: create.name.describe('A human-readable name.'),
          kind: create.kind.describe('"pty" (a terminal, default) or "pipe" (stdout/stderr apart, no terminal).'),
          cols: create.cols.describe('Terminal width in columns (default 120).'),
          rows: create.rows.describe('Terminal height in rows (default 40).'),
          forceNew: create.forceNew.describe('With a taskId that already has a live session: start another instead of returning it.'),
          agent: create.agent.describe(
            'Agent sessions: authToken (redacted everywhere), isolatedHome, preAnswer (with isolatedHome: trust the cwd and approve the token beforehand), autoAnswer dialog ids.',
          ),
          node: create.node.describe('A fleet: the node to run on (default: the one with the most room). A single daemon refuses it.'),
          worktree: worktreeSchema
            .optional()
            .describe(
              'Agent sessions (claude, codex, gemini): run in a git worktree made for the task ({repo, branch, keep}); it is removed when the session ends unless keep. cwd is then ignored.',
            ),
        }),
        outputSchema: { session: sessionSummarySchema, hint: z.string() },
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
      },
      (args) =>
        guarded(async () => {
          const { worktree, ...rest } = args;
          const info = worktree === undefined ? await backend.createSession(rest) : await backend.createAgentSession(agentRequest(rest, worktree));
          return ok({
            session: summarize(info),
            hint: `Session ${info.id} is ${info.state}. Next: wait_for {states:["ready","idle"]}, then exec_command (shell) or prompt_agent (agent); send_input, read_output, read_screen.`,
          });
        }),
    );
  },
};

/** create_session's fields with a worktree as the `POST /sessions/agent` request (the same create for every agent). */
function agentRequest(args: z.infer<typeof createSessionSchema>, worktree: z.infer<typeof worktreeSchema>): AgentSessionRequest {
  if (args.node !== undefined) {
    // Like REST's agent creates: the repo and the agent's home are paths of the node asked, so it runs there.
    throw new CorralError('VALIDATION_FAILED', 'An agent session in a worktree runs on the node you call (its repo is a path there): leave out node.');
  }
  if (args.profile === undefined || args.template !== undefined) {
    throw new CorralError('VALIDATION_FAILED', 'A worktree is for agent sessions: name the agent profile (claude, codex, gemini) and no template.');
  }
  const [executable, ...rest] = args.command ?? [];
  return {
    agent: args.profile,
    ...(executable !== undefined ? { executable, args: rest } : {}),
    environment: args.env,
    ...(args.cols !== undefined && args.rows !== undefined ? { terminalSize: { cols: args.cols, rows: args.rows } } : {}),
    taskId: args.taskId,
    forceNew: args.forceNew,
    name: args.name,
    authToken: args.agent?.authToken,
    home: args.agent?.isolatedHome === true ? 'isolated' : 'inherit',
    preAnswer: args.agent?.preAnswer,
    autoAnswer: args.agent?.autoAnswer,
    worktree,
  };
}
