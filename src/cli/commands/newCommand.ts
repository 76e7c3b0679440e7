// `corral new`: creates a session (POST /api/v1/sessions) and prints its id, or the session JSON with --json.
// It only builds the request from flags; defaults (profile, kind, cwd) are the daemon's (PRODUCT §5).

import type { AgentSessionRequest, CreateSessionRequest } from '../../protocol/api.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { client, clientCommand, envOption, integerOption, sessionCwd, withCwdHint, writeJson } from './commandKit.js';

const USAGE = `Usage: corral new [options] [-- argv…]

Creates a session and prints its id. With no argv the profile's command runs (the shell by default).
  --template NAME  start from a stored template (corral's /templates); flags given here win
  --profile NAME   shell, command, claude, … (default: command with argv, else shell)
  --kind pty|pipe  a terminal (default) or separate stdout/stderr pipes
  --task ID        task id (returns the task's live session unless --force-new)
  --force-new      start another session even if the task has a live one
  --name NAME      a name to show in lists
  --cwd DIR        working directory (default: your current directory, or the template's with --template;
                   it must lie under a daemon --root)
  --env K=V        environment variable for the session (repeatable)
  --cols N --rows N  terminal size
  --isolated-home  agent sessions: a HOME of the session's own (its config, hooks, trust)
  --pre-answer     agent sessions, with --isolated-home: trust the cwd and first-run questions beforehand
  --worktree REPO:BRANCH  agent sessions (claude, codex, gemini): run in a git worktree made for the task
                   (POST /sessions/agent); removed when the session ends unless --keep-worktree
  --json           print the session object`;

/** Terminal sizes the daemon accepts (api.ts MAX_COLS/MAX_ROWS); checked here for a usage error rather than a 400. */
const MAX_COLS = 1000;
const MAX_ROWS = 500;

export const newCommand = clientCommand({
  name: 'new',
  summary: 'create a session (--template, --profile, --task, --cwd, --name, --env K=V, --worktree REPO:BRANCH, -- argv…); prints its id',
  usage: USAGE,
  options: {
    template: { type: 'string' },
    profile: { type: 'string' },
    kind: { type: 'string' },
    task: { type: 'string' },
    'force-new': { type: 'boolean', default: false },
    name: { type: 'string' },
    cwd: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    cols: { type: 'string' },
    rows: { type: 'string' },
    'isolated-home': { type: 'boolean', default: false },
    'pre-answer': { type: 'boolean', default: false },
    worktree: { type: 'string' },
    'keep-worktree': { type: 'boolean', default: false },
  },
  run: async ({ values, positionals }, io) => {
    if (values.kind !== undefined && values.kind !== 'pty' && values.kind !== 'pipe') {
      throw new UsageError(`--kind: "${values.kind}" must be pty or pipe`);
    }
    // A template that names a directory keeps it unless --cwd says otherwise; without one the session starts here.
    const cwd = values.template !== undefined && values.cwd === undefined ? undefined : sessionCwd(values.cwd);
    const request: CreateSessionRequest = {
      template: values.template,
      profile: values.profile,
      kind: values.kind,
      command: positionals.length > 0 ? positionals : undefined,
      cwd: cwd?.cwd,
      env: envOption(values.env),
      cols: integerOption(values.cols, 'cols', 2, MAX_COLS),
      rows: integerOption(values.rows, 'rows', 2, MAX_ROWS),
      taskId: values.task,
      forceNew: values['force-new'] ? true : undefined,
      name: values.name,
    };
    if (values['isolated-home'] || values['pre-answer']) {
      request.agent = { isolatedHome: values['isolated-home'] ? true : undefined, preAnswer: values['pre-answer'] ? true : undefined };
    }
    const api = client(values, io).sessions;
    // With --worktree the session runs in the task's worktree, not here: the caller's directory plays no part.
    const create = (): Promise<SessionInfo> =>
      values.worktree === undefined ? api.create(request) : api.createAgent(agentRequest(request, values.worktree, values['keep-worktree']));
    const session = cwd === undefined || values.worktree !== undefined ? await create() : await withCwdHint(cwd, create);
    if (values.json) writeJson(io, session);
    else io.stdout.write(session.id + '\n');
    return EXIT.ok;
  },
});

/** `new --worktree REPO:BRANCH`: the same flags as a `POST /sessions/agent` request (the profile names the agent). */
function agentRequest(request: CreateSessionRequest, worktree: string, keep: boolean): AgentSessionRequest {
  const split = worktree.lastIndexOf(':');
  if (split <= 0 || split === worktree.length - 1) throw new UsageError(`--worktree: "${worktree}" must be REPO:BRANCH`);
  if (request.profile === undefined || request.template !== undefined || request.kind !== undefined) {
    throw new UsageError('--worktree is for agent sessions: give --profile claude|codex|gemini (no --template, no --kind)');
  }
  const [executable, ...args] = request.command ?? [];
  return {
    agent: request.profile,
    ...(executable !== undefined ? { executable, args } : {}),
    environment: request.env,
    ...(request.cols !== undefined && request.rows !== undefined ? { terminalSize: { cols: request.cols, rows: request.rows } } : {}),
    taskId: request.taskId,
    forceNew: request.forceNew,
    name: request.name,
    home: request.agent?.isolatedHome === true ? 'isolated' : 'inherit',
    preAnswer: request.agent?.preAnswer,
    worktree: { repo: worktree.slice(0, split), branch: worktree.slice(split + 1), ...(keep ? { keep: true } : {}) },
  };
}
