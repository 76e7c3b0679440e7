// One zod schema per message: REST validates bodies with them, they type the handlers, generate the OpenAPI
// document and define the MCP tool inputs. Imports neither Node nor DOM (zod only).

import { z } from 'zod';
import { SESSION_KINDS, SESSION_STATES } from './sessionTypes.js';

/** Terminal sizes beyond these are absurd and would make the headless screen allocate megabytes. */
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
/** argv bounds: long enough for any real command line, short of the kernel's ARG_MAX trouble. */
export const MAX_ARGS = 1024;
export const MAX_ARG_BYTES = 128 * 1024;
/** One input write; larger pastes are split by the caller. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** Longest wait a caller may ask for in one long-poll (one hour). */
export const MAX_WAIT_MS = 60 * 60 * 1000;
export const MAX_PATTERN_LENGTH = 4096;

const noNul = (s: string): boolean => !s.includes('\0');

export const taskIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._:@/-]+$/, 'task ids use letters, digits and . _ : @ / -');
export const nameSchema = z.string().min(1).max(128).refine(noNul);
const argSchema = z.string().max(MAX_ARG_BYTES).refine(noNul, 'arguments cannot contain NUL');

export const limitsSchema = z
  .object({
    maxLifetimeMs: z.number().int().min(100).max(30 * 24 * 3600 * 1000).nullable().optional(),
    idleTimeoutMs: z.number().int().min(100).max(30 * 24 * 3600 * 1000).nullable().optional(),
    /**
     * rlimits set before the program starts (RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_AS). Under cgroup
     * containment `processes` and `memoryBytes` also bound the whole tree (pids.max, memory.max), root included;
     * pids.max counts tasks, so a program's threads count against `processes` there.
     */
    openFiles: z.number().int().min(16).max(1 << 20).nullable().optional(),
    processes: z.number().int().min(1).max(1 << 22).nullable().optional(),
    cpuSeconds: z.number().int().min(1).max(30 * 24 * 3600).nullable().optional(),
    memoryBytes: z.number().int().min(16 * 1024 * 1024).max(2 ** 48).nullable().optional(),
    /** CPU weight of the whole tree against other sessions (cgroup cpu.weight; v1 cpu.shares = weight × 10.24). */
    cpuWeight: z.number().int().min(1).max(10_000).nullable().optional(),
  })
  .strict();

/** Template and macro names: short, safe in a URL path and a shell word. */
export const presetNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'names use letters, digits and . _ - (max 64)');

/** Agent sessions (profiles with an `agent` section): auth, isolation and opt-in auto-answers. */
export const agentOptionsSchema = z
  .object({
    /** Passed in the profile's auth variable (ANTHROPIC_API_KEY for claude), redacted from every reply and log. */
    authToken: z.string().min(1).max(4096).refine(noNul).optional(),
    /** Give the session its own HOME under its private dir instead of the daemon's. */
    isolatedHome: z.boolean().optional(),
    /** With isolatedHome: answer the trust question for the cwd and approve the authToken beforehand. */
    preAnswer: z.boolean().optional(),
    /** Dialogs answered automatically: ids such as `trust`, `api_key`, `permission`, or `tool:<Name>`. Never by default. */
    autoAnswer: z.array(z.string().min(1).max(128)).max(64).optional(),
    /** Report state through the CLI's hooks (default true where the profile has hooks). */
    hooks: z.boolean().optional(),
  })
  .strict();
export type AgentOptions = z.infer<typeof agentOptionsSchema>;

/** A path added to a sandbox: read-only (`ro`, the default) or writable (`rw`); it must lie under a workspace root. */
export const sandboxBindSchema = z
  .object({
    path: z.string().min(1).max(4096).refine(noNul, 'paths cannot contain NUL'),
    mode: z.enum(['ro', 'rw']).optional(),
  })
  .strict();

/**
 * A session's sandbox (Linux namespaces through bubblewrap): the system read-only, the cwd (and an agent's own HOME)
 * writable, the daemon's data dir, token and other sessions' directories absent. `network: "full"` shares the host's
 * network (agents must reach their API), `"none"` gives the session a network namespace of its own (loopback only).
 * `"none"` instead of an object runs the session without a sandbox: an explicit opt-out, logged and shown in its info.
 */
export const sandboxPolicySchema = z
  .object({
    network: z.enum(['full', 'none']).optional(),
    binds: z.array(sandboxBindSchema).max(32).optional(),
  })
  .strict();
export const sandboxRequestSchema = z.union([z.literal('none'), sandboxPolicySchema]);
export type SandboxRequest = z.infer<typeof sandboxRequestSchema>;

/** What a session is made of, as a create request and a template both give it. */
const sessionShapeFields = {
  profile: z.string().min(1).max(64).optional(),
  kind: z.enum(SESSION_KINDS).optional(),
  command: z.array(argSchema).min(1).max(MAX_ARGS).optional(),
  cwd: z.string().min(1).max(4096).optional(),
  env: z.record(z.string().max(256), z.string()).optional(),
  /** Names in `env` whose values are secrets: redacted from every reply and log. */
  secretEnv: z.array(z.string().max(256)).max(256).optional(),
  cols: z.number().int().min(2).max(MAX_COLS).optional(),
  rows: z.number().int().min(2).max(MAX_ROWS).optional(),
  labels: z.record(z.string().max(64), z.string().max(256)).optional(),
  limits: limitsSchema.optional(),
  /** The session's sandbox, or `"none"` to opt out; default: the profile's (on for agent profiles, off otherwise). */
  sandbox: sandboxRequestSchema.optional(),
  /**
   * Give the session CORRAL_URL and a CORRAL_TOKEN scoped to its own session and task (never the daemon's token);
   * default: the profile's `scopedToken` (on for agent profiles).
   */
  scopedToken: z.boolean().optional(),
};

/** A fleet node's name (`corral serve --node-name`): what etcd keys and URLs carry. */
export const nodeNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a node name: letters, digits, . _ -, at most 63');

/** POST /nodes/:name/drain: stop (true, the default) or resume (false) new placements on a node. */
export const drainSchema = z.object({ draining: z.boolean().optional() }).strict();

export const createSessionSchema = z
  .object({
    /** A stored template (GET /templates) whose fields this request starts from; fields given here win. */
    template: presetNameSchema.optional(),
    ...sessionShapeFields,
    taskId: taskIdSchema.optional(),
    /** With a taskId whose live session exists: start another instead of returning it. */
    forceNew: z.boolean().optional(),
    name: nameSchema.optional(),
    agent: agentOptionsSchema.optional(),
    /** A fleet: the node to run on (else the node with the most room). */
    node: nodeNameSchema.optional(),
    /** A fleet: only nodes whose labels include all of these. */
    nodeSelector: z.record(z.string().max(63), z.string().max(63)).optional(),
  })
  .strict();
export type CreateSessionRequest = z.infer<typeof createSessionSchema>;

export const inputSchema = z
  .object({
    data: z.string().max(MAX_INPUT_BYTES).optional(),
    keys: z.array(z.string().max(32)).max(256).optional(),
    /** Close stdin after writing (pipe sessions). */
    eof: z.boolean().optional(),
  })
  .strict()
  .refine((v) => v.data !== undefined || v.keys !== undefined || v.eof === true, 'give data, keys or eof');
export type InputRequest = z.infer<typeof inputSchema>;

export const resizeSchema = z
  .object({ cols: z.number().int().min(2).max(MAX_COLS), rows: z.number().int().min(2).max(MAX_ROWS) })
  .strict();

export const SIGNAL_NAMES = [
  'SIGINT',
  'SIGTERM',
  'SIGKILL',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGSTOP',
  'SIGCONT',
  'SIGWINCH',
  'SIGTSTP',
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];
/** A signal by name, with or without its SIG prefix, in any case: `SIGUSR1`, `USR1` and `usr1` are one signal. */
export const signalNameSchema = z.preprocess(
  (value) => (typeof value === 'string' ? `SIG${value.toUpperCase().replace(/^SIG/, '')}` : value),
  z.enum(SIGNAL_NAMES),
);
export const signalSchema = z.object({ signal: signalNameSchema }).strict();

export const outputQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    format: z.enum(['raw', 'text']).optional(),
    encoding: z.enum(['base64', 'utf8']).optional(),
    stream: z.enum(['combined', 'stdout', 'stderr']).optional(),
    limit: z.coerce.number().int().min(1).max(4 * 1024 * 1024).optional(),
  })
  .strict();

export const waitSchema = z
  .object({
    states: z.array(z.enum(SESSION_STATES)).min(1).optional(),
    pattern: z.string().min(1).max(MAX_PATTERN_LENGTH).optional(),
    /** Offset from which output is searched for `pattern` (default: output produced after the wait starts). */
    since: z.number().int().min(0).optional(),
    /** Also match `pattern` against the rendered screen. */
    screen: z.boolean().optional(),
    exit: z.boolean().optional(),
    timeoutMs: z.number().int().min(0).max(MAX_WAIT_MS),
  })
  .strict()
  .refine((v) => v.states !== undefined || v.pattern !== undefined || v.exit === true, 'give states, pattern or exit');
export type WaitRequest = z.infer<typeof waitSchema>;

export const execSchema = z
  .object({
    command: z.union([z.string().min(1).max(MAX_ARG_BYTES).refine(noNul), z.array(argSchema).min(1).max(MAX_ARGS)]),
    cwd: z.string().min(1).max(4096).optional(),
    env: z.record(z.string().max(256), z.string()).optional(),
    timeoutMs: z.number().int().min(1).max(MAX_WAIT_MS).optional(),
    /** Bytes written to stdin before it is closed. */
    stdin: z.string().max(MAX_INPUT_BYTES).optional(),
    /** Most output bytes returned per stream (the rest stays readable through the session). */
    maxOutputBytes: z.number().int().min(1).max(4 * 1024 * 1024).optional(),
    name: nameSchema.optional(),
    taskId: taskIdSchema.optional(),
  })
  .strict();
export type ExecRequest = z.infer<typeof execSchema>;

/** POST /api/v1/shutdown: stop the daemon. endSessions: end every session first (else they keep running under holders). */
export const shutdownSchema = z
  .object({
    endSessions: z.boolean().default(false),
  })
  .strict();
export type ShutdownRequest = z.input<typeof shutdownSchema>;

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  truncated: boolean;
  sessionId: string;
  pid: number | null;
  durationMs: number;
}

export const listQuerySchema = z
  .object({
    state: z.enum(SESSION_STATES).optional(),
    taskId: taskIdSchema.optional(),
    profile: z.string().max(64).optional(),
    live: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    cursor: z.string().max(512).optional(),
  })
  .strict();

export const pageQuerySchema = z
  .object({
    after: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

export const deleteQuerySchema = z
  .object({
    /** Skip the polite steps and grace periods: SIGKILL at once. */
    force: z.enum(['true', 'false']).optional(),
    /** Also remove the ended session: its record, history, events and output on disk (a live one is ended first). */
    purge: z.enum(['true', 'false']).optional(),
  })
  .strict();

/** POST /sessions/prune: remove every ended session that ended more than `olderThanMs` ago. */
export const pruneSchema = z.object({ olderThanMs: z.number().int().min(0) }).strict();
export type PruneRequest = z.infer<typeof pruneSchema>;

// ---- shell sessions: exec, command history, line view, search (issue 3) ----------------------------------------

/** A command written to a shell in one exec: far more than any script pasted by hand, far below an input write. */
export const MAX_SHELL_COMMAND_BYTES = 256 * 1024;
/** Most output an exec returns inline (the rest stays readable at its offsets). */
export const MAX_EXEC_OUTPUT_BYTES = 4 * 1024 * 1024;

export const shellExecSchema = z
  .object({
    command: z
      .string()
      .min(1)
      .max(MAX_SHELL_COMMAND_BYTES)
      .refine(noNul, 'the command cannot contain NUL')
      .refine((s) => s.trim().length > 0, 'the command is blank'),
    timeoutMs: z.number().int().min(1).max(MAX_WAIT_MS).optional(),
    /** `text` (default): ANSI stripped, CRLF as LF. `raw`: the bytes as the terminal got them (UTF-8). */
    format: z.enum(['text', 'raw']).optional(),
    maxOutputBytes: z.number().int().min(1).max(MAX_EXEC_OUTPUT_BYTES).optional(),
  })
  .strict();
export type ShellExecRequest = z.infer<typeof shellExecSchema>;

export interface ShellExecResult {
  output: string;
  /** `$?` as the shell saw it (128+n: killed by signal n); null when timed out. */
  exitCode: number | null;
  durationMs: number;
  /** The shell's cwd after the command. */
  cwd: string | null;
  /** True when the command was still running at the timeout; it keeps running (read, wait, interrupt or kill it). */
  timedOut: boolean;
  /** True when output was longer than maxOutputBytes (or partly evicted). */
  truncated: boolean;
  /** This command's seq in the session's command history. */
  seq: number;
  /** Raw output offsets of the command's output (GET /output?since=outputStart). */
  outputStart: number;
  outputEnd: number;
}

/** Most lines one line-view read returns. */
export const MAX_LINES = 10_000;

export const linesQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Keep only lines matching this regex (on the text view of each line). */
    include: z.string().min(1).max(MAX_PATTERN_LENGTH).optional(),
    /** Drop lines matching this regex. */
    exclude: z.string().min(1).max(MAX_PATTERN_LENGTH).optional(),
    ignoreCase: z.enum(['true', 'false']).optional(),
    stream: z.enum(['combined', 'stdout', 'stderr']).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LINES).optional(),
  })
  .strict();

/** Most matches one search returns. */
export const MAX_SEARCH_MATCHES = 1000;

export const searchQuerySchema = z
  .object({
    pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
    ignoreCase: z.enum(['true', 'false']).optional(),
    /** Start of the search (default: the oldest byte still kept, in memory or on disk). */
    since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    stream: z.enum(['combined', 'stdout', 'stderr']).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_SEARCH_MATCHES).optional(),
  })
  .strict();

// ---- templates and macros (issue 3) -----------------------------------------------------------------------------

export const templateBodySchema = z
  .object({
    description: z.string().max(1024).optional(),
    ...sessionShapeFields,
    /** Dialog ids (as `autoAnswer` of POST /sessions) that sessions from this template answer on their own. */
    autoAnswer: z.array(z.string().min(1).max(128)).max(64).optional(),
  })
  .strict();
export type TemplateBody = z.infer<typeof templateBodySchema>;

/** A macro longer than this is a script: write one and exec it. */
export const MAX_MACRO_STEPS = 200;
/** Longest sleep step (a macro that sleeps longer wants a wait step instead). */
export const MAX_MACRO_SLEEP_MS = 10 * 60 * 1000;

export const macroStepSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('send'), text: z.string().min(1).max(MAX_INPUT_BYTES) }).strict(),
  z.object({ type: z.literal('keys'), keys: z.array(z.string().max(32)).min(1).max(256) }).strict(),
  z
    .object({ type: z.literal('waitState'), states: z.array(z.enum(SESSION_STATES)).min(1), timeoutMs: z.number().int().min(0).max(MAX_WAIT_MS) })
    .strict(),
  z
    .object({
      type: z.literal('waitPattern'),
      pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
      /** Match the rendered screen too (not only output since the macro's last send). */
      screen: z.boolean().optional(),
      timeoutMs: z.number().int().min(0).max(MAX_WAIT_MS),
    })
    .strict(),
  z.object({ type: z.literal('sleep'), ms: z.number().int().min(0).max(MAX_MACRO_SLEEP_MS) }).strict(),
]);
export type MacroStep = z.infer<typeof macroStepSchema>;

export const macroBodySchema = z
  .object({
    description: z.string().max(1024).optional(),
    steps: z.array(macroStepSchema).min(1).max(MAX_MACRO_STEPS),
  })
  .strict();
export type MacroBody = z.infer<typeof macroBodySchema>;

export interface MacroStepResult {
  index: number;
  type: MacroStep['type'];
  ok: boolean;
  durationMs: number;
  /** For waits: what ended the wait (state, pattern, exit, timeout). */
  outcome?: string;
  error?: { code: string; message: string };
}

export interface MacroRunResult {
  macro: string;
  ok: boolean;
  /** Index of the step that failed, or null. */
  failedStep: number | null;
  steps: MacroStepResult[];
}

// ---- agent sessions (Claude Code first) ---------------------------------------------------------------------

export const promptSchema = z
  .object({
    text: z.string().min(1).max(MAX_INPUT_BYTES).refine(noNul, 'a prompt cannot contain NUL'),
    /** How long to wait for the turn to end or for a question (default 10 minutes). */
    timeoutMs: z.number().int().min(1).max(MAX_WAIT_MS).optional(),
  })
  .strict();
export type PromptRequest = z.infer<typeof promptSchema>;

/** `PATCH /sessions/{id}`: what a live session may change after its start (its name; null clears it). */
export const updateSessionSchema = z
  .object({
    name: nameSchema.nullable(),
  })
  .strict();
export type UpdateSessionRequest = z.infer<typeof updateSessionSchema>;

export const answerSchema = z
  .object({
    /** The option's number (`1`) or its text (`Yes, I trust this folder`, or the one label it starts). */
    choice: z.union([z.string().min(1).max(256), z.number().int().min(1).max(99)]),
    /** How long to wait for the dialog to go away after answering (default 10 s). */
    timeoutMs: z.number().int().min(1).max(MAX_WAIT_MS).optional(),
  })
  .strict();
export type AnswerRequest = z.infer<typeof answerSchema>;

const terminalSizeSchema = z.union([
  z.tuple([z.number().int().min(2).max(MAX_COLS), z.number().int().min(2).max(MAX_ROWS)]),
  z.object({ cols: z.number().int().min(2).max(MAX_COLS), rows: z.number().int().min(2).max(MAX_ROWS) }).strict(),
]);

export const worktreeSchema = z
  .object({
    /** A git repository under a workspace root. */
    repo: z.string().min(1).max(4096),
    /** Branch checked out in the worktree (created from HEAD when missing). */
    // No leading '-': the name is passed to git as an argument and must never read as an option.
    branch: z.string().min(1).max(200).regex(/^[A-Za-z0-9._/][A-Za-z0-9._/-]*$/, 'branch names use letters, digits and . _ / - and do not start with -'),
    /** Keep the worktree directory when the task ends (default: removed; the branch always stays). */
    keep: z.boolean().optional(),
  })
  .strict();

/** The original design's SessionConfig for `POST /sessions/claude`, plus isolation and worktree options. */
export const claudeSessionSchema = z
  .object({
    taskId: taskIdSchema.optional(),
    projectPath: z.string().min(1).max(4096).optional(),
    terminalSize: terminalSizeSchema.optional(),
    environment: z.record(z.string().max(256), z.string()).optional(),
    authToken: z.string().min(1).max(4096).refine(noNul).optional(),
    /** `isolated`: a HOME of its own under the session's private dir; `inherit` (default): the daemon's HOME. */
    home: z.enum(['inherit', 'isolated']).optional(),
    /** With an isolated home: the trust question for projectPath and the authToken's question answered beforehand. */
    preAnswer: z.boolean().optional(),
    autoAnswer: z.array(z.string().min(1).max(128)).max(64).optional(),
    /** Extra CLI arguments, e.g. ["--permission-mode", "manual"]. */
    args: z.array(argSchema).max(64).optional(),
    /** The CLI's argv[0] when it is not `claude` in PATH. */
    executable: argSchema.optional(),
    worktree: worktreeSchema.optional(),
    name: nameSchema.optional(),
    forceNew: z.boolean().optional(),
    labels: z.record(z.string().max(64), z.string().max(256)).optional(),
    limits: limitsSchema.optional(),
  })
  .strict();
export type ClaudeSessionRequest = z.infer<typeof claudeSessionSchema>;

/**
 * `POST /sessions/agent`: the same fields for any agent profile (claude, codex, gemini, or a user-defined one) named
 * by `agent`; `executable` defaults to the profile's program. A task worktree works the same for every agent.
 */
export const agentSessionSchema = claudeSessionSchema
  .extend({
    agent: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_-]*$/, 'a profile name: lowercase letters, digits, _ and -'),
  })
  .strict();
export type AgentSessionRequest = z.infer<typeof agentSessionSchema>;
