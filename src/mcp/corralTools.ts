// The one set of MCP tools (PRODUCT §2.3), served over stdio and Streamable HTTP alike: the original design's
// execute_command and manage_process plus the session tools. Parses arguments, calls an McpBackend, shapes the
// result for a model. Must never hold session state beyond this connection's read cursors, nor throw past a tool:
// every failure is an `isError` result the model can act on.

import { Buffer } from 'node:buffer';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  answerSchema,
  createSessionSchema,
  MAX_ARG_BYTES,
  MAX_INPUT_BYTES,
  MAX_PATTERN_LENGTH,
  MAX_WAIT_MS,
  promptSchema,
  shellExecSchema,
  SIGNAL_NAMES,
} from '../protocol/api.js';
import { CorralError } from '../protocol/errors.js';
import { SESSION_STATES, type SessionInfo } from '../protocol/sessionTypes.js';
import type { McpBackend, OutputStreamName } from './McpBackend.js';
import { ReadCursors } from './ReadCursors.js';

/** Default bytes of output one tool call returns: ~16k tokens, enough for a command's result without flooding a model's context. */
export const MCP_DEFAULT_OUTPUT_BYTES = 64 * 1024;
/** Most a caller may ask for in one call (the REST read's own page size); page on with nextOffset. */
export const MCP_MAX_OUTPUT_BYTES = 1024 * 1024;
/** execute_command's default timeout: long enough for a build step; past it the command keeps running. */
export const MCP_DEFAULT_EXEC_TIMEOUT_MS = 30_000;
/** wait_for's default timeout when the model names none. */
export const MCP_DEFAULT_WAIT_MS = 30_000;
/**
 * prompt_agent's default wait for the turn: under the 60 s request timeout MCP SDK clients apply by default, so the
 * tool answers (timedOut, still busy, with a hint to wait_for) before the client gives up on the call.
 */
export const MCP_DEFAULT_PROMPT_MS = 50_000;
/** Sessions listed by list_sessions / manage_process list by default, and at most (the REST page cap is 1000). */
const DEFAULT_LIST = 50;
const MAX_LIST = 200;
/** Sessions scanned to map a pid to its session: recent enough for any pid a model was just told. */
const PID_SCAN_LIMIT = 500;

// ---- shared schemas ------------------------------------------------------------------------------------------

/** Loose on purpose: a malformed id still reaches the engine, whose error names the live sessions. */
const sessionIdArg = z.string().min(1).max(128).describe('Session id, e.g. "s_Ab3…" (from create_session, list_sessions or execute_command).');
const streamArg = z
  .enum(['combined', 'stdout', 'stderr'])
  .describe('Which output: "combined" (default; everything in order), or "stdout"/"stderr" apart (pipe sessions only).');
const maxBytesArg = z
  .number()
  .int()
  .min(1)
  .max(MCP_MAX_OUTPUT_BYTES)
  .describe(`Most bytes to return (default ${MCP_DEFAULT_OUTPUT_BYTES}). The reply says where to continue.`);

const exitSchema = z.object({
  code: z.number().nullable(),
  signal: z.string().nullable(),
  reason: z.string(),
  forced: z.boolean(),
});

const sessionSummarySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  taskId: z.string().nullable(),
  profile: z.string(),
  kind: z.string(),
  state: z.string(),
  stateReason: z.string(),
  pid: z.number().nullable(),
  cwd: z.string(),
  command: z.array(z.string()),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  exit: exitSchema.nullable(),
  outputBytes: z.number(),
});
type SessionSummary = z.infer<typeof sessionSummarySchema>;

function summarize(info: SessionInfo): SessionSummary {
  return {
    id: info.id,
    name: info.name,
    taskId: info.taskId,
    profile: info.profile,
    kind: info.kind,
    state: info.state,
    stateReason: info.stateReason,
    pid: info.pid,
    cwd: info.cwd,
    command: info.command,
    createdAt: info.createdAt,
    endedAt: info.endedAt,
    exit: info.exit === null ? null : { code: info.exit.code, signal: info.exit.signal, reason: info.exit.reason, forced: info.exit.forced },
    outputBytes: info.output.totalBytes,
  };
}

const outputReadSchema = {
  sessionId: z.string(),
  stream: z.string(),
  data: z.string(),
  offset: z.number(),
  nextOffset: z.number(),
  firstAvailableOffset: z.number(),
  gap: z.number().describe('Bytes lost (evicted) before offset; 0 when none.'),
  more: z.boolean().describe('True when more output is already available from nextOffset.'),
  running: z.boolean(),
  hint: z.string().optional(),
};

// ---- result helpers ------------------------------------------------------------------------------------------

function ok(structured: Record<string, unknown>, text?: string): CallToolResult {
  return { content: [{ type: 'text', text: text ?? JSON.stringify(structured) }], structuredContent: structured };
}

/** Any failure as a result the model can act on: the engine's message already says what to do next. */
export function toolError(error: unknown): CallToolResult {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const text = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? `${message} (${code})` : message;
  return { content: [{ type: 'text', text }], isError: true };
}

/** The stable code a backend error carries (CorralError in the daemon, ClientError over REST), if any. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The session state an error's details name (SESSION_BUSY / INVALID_STATE carry it), or "busy". */
function stateOf(error: unknown): string {
  const details = (error as { details?: unknown } | null)?.details;
  const state = (details as { state?: unknown } | null | undefined)?.state;
  return typeof state === 'string' ? state : 'busy';
}

async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    // Every failure becomes a tool result (PRODUCT §5); nothing a tool does may crash the transport.
    return toolError(error);
  }
}

function isRunning(info: SessionInfo): boolean {
  return info.state !== 'terminated';
}

function endOffset(info: SessionInfo, stream: OutputStreamName): number {
  if (stream === 'stdout') return info.output.stdoutBytes;
  if (stream === 'stderr') return info.output.stderrBytes;
  return info.output.totalBytes;
}

// ---- the server ----------------------------------------------------------------------------------------------

export interface CorralMcpOptions {
  version: string;
}

const INSTRUCTIONS = `Corral runs and watches processes and terminal sessions for you.
- One-shot commands: execute_command. If it outlives its timeout it keeps running; use manage_process (read / kill) with the pid it returns.
- A shell that keeps its state (cwd, variables): create_session {profile:"shell"}, then exec_command for each command (exact output and exit code).
- Agent CLIs: create_session {profile:"claude"}, wait_for ready, prompt_agent (answers the reply), answer when it asks something.
- Any interactive program: create_session, then send_input, wait_for (a state, an output pattern or exit — never poll), read_output / read_screen, terminate_session.
- Output reads never consume: each read continues where this connection last read, or from an explicit offset.`;

/** A new MCP server (one per connection: its read cursors are that connection's) with every Corral tool. */
export function createCorralMcpServer(backend: McpBackend, options: CorralMcpOptions): McpServer {
  const server = new McpServer({ name: 'corral', version: options.version }, { instructions: INSTRUCTIONS });
  const cursors = new ReadCursors();

  /** One bounded read that advances this connection's cursor and says whether more is waiting. */
  async function readBounded(
    sessionId: string,
    args: { since?: number; stream?: OutputStreamName; maxBytes?: number; format?: 'text' | 'raw' },
  ): Promise<z.infer<z.ZodObject<typeof outputReadSchema>>> {
    const stream = args.stream ?? 'combined';
    const since = args.since ?? cursors.get(sessionId, stream) ?? 0;
    const read = await backend.readOutput(sessionId, {
      since,
      format: args.format ?? 'text',
      stream,
      maxBytes: args.maxBytes ?? MCP_DEFAULT_OUTPUT_BYTES,
    });
    const info = await backend.getSession(sessionId);
    cursors.set(sessionId, stream, read.nextOffset);
    const more = read.nextOffset < endOffset(info, stream);
    const running = isRunning(info);
    const hints: string[] = [];
    if (read.gap > 0) hints.push(`${read.gap} older bytes were evicted before offset ${read.offset}.`);
    if (more) hints.push(`More output is available from offset ${read.nextOffset}: read again (the next read continues there).`);
    else if (running) hints.push('No more output yet; the process is still running. Use wait_for with a pattern or exit to wait for more.');
    return {
      sessionId,
      stream,
      data: read.data,
      offset: read.offset,
      nextOffset: read.nextOffset,
      firstAvailableOffset: read.firstAvailableOffset,
      gap: read.gap,
      more,
      running,
      ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
    };
  }

  /** The session behind a pid (live ones first: an ended session's pid may have been reused), or by id. */
  async function resolveProcess(args: { pid?: number; sessionId?: string }): Promise<SessionInfo> {
    if (args.sessionId !== undefined) return backend.getSession(args.sessionId);
    if (args.pid === undefined) {
      throw new CorralError('VALIDATION_FAILED', 'Give pid (from execute_command or manage_process list) or sessionId.');
    }
    const pid = args.pid;
    const live = await backend.listSessions({ live: true, limit: PID_SCAN_LIMIT });
    const found = live.find((s) => s.pid === pid) ?? (await backend.listSessions({ limit: PID_SCAN_LIMIT })).find((s) => s.pid === pid);
    if (found !== undefined) return found;
    const running = live
      .filter((s) => s.pid !== null)
      .slice(0, 20)
      .map((s) => `pid ${s.pid} (${s.id})`);
    throw new CorralError(
      'SESSION_NOT_FOUND',
      `No Corral process has pid ${pid}. ${running.length === 0 ? 'No processes are running.' : `Running: ${running.join(', ')}.`} Use manage_process with action "list" to see them.`,
      { details: { pid } },
    );
  }

  // ---- execute_command -------------------------------------------------------------------------------------

  server.registerTool(
    'execute_command',
    {
      title: 'Run a command',
      description:
        'Run a shell command line and return its stdout, stderr and exit code. Output is bounded (truncated: true when cut; read the rest with read_output). ' +
        'If the command is still running at the timeout it is NOT killed: it keeps running in the background and the result gives its pid and sessionId — ' +
        'use manage_process {action:"read", pid} for its output, {action:"kill", pid} to stop it, or wait_for {sessionId, exit:true}.',
      inputSchema: {
        command: z.string().min(1).max(MAX_ARG_BYTES).describe('The command line, e.g. "npm test 2>&1 | tail -20". Runs through the shell.'),
        shell: z.string().min(1).max(4096).optional().describe('Shell that runs it with -c (default /bin/sh), e.g. "bash".'),
        cwd: z.string().min(1).max(4096).optional().describe('Working directory (must lie under a workspace root; default: the first root).'),
        timeout: z
          .number()
          .int()
          .min(1)
          .max(MAX_WAIT_MS)
          .optional()
          .describe(`Milliseconds to wait for it to finish (default ${MCP_DEFAULT_EXEC_TIMEOUT_MS}); it keeps running after.`),
        stdin: z.string().max(MAX_INPUT_BYTES).optional().describe('Text written to its stdin, which is then closed.'),
        maxOutputBytes: maxBytesArg.optional(),
      },
      outputSchema: {
        stdout: z.string(),
        stderr: z.string(),
        exitCode: z.number().nullable(),
        signal: z.string().nullable(),
        timedOut: z.boolean(),
        truncated: z.boolean(),
        running: z.boolean(),
        sessionId: z.string(),
        pid: z.number().nullable(),
        durationMs: z.number(),
        hint: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    },
    (args, extra) =>
      guarded(async () => {
        const command = args.shell === undefined ? args.command : [args.shell, '-c', args.command];
        const result = await backend.exec(
          {
            command,
            cwd: args.cwd,
            timeoutMs: args.timeout ?? MCP_DEFAULT_EXEC_TIMEOUT_MS,
            stdin: args.stdin,
            maxOutputBytes: args.maxOutputBytes ?? MCP_DEFAULT_OUTPUT_BYTES,
          },
          extra.signal,
        );
        const running = result.timedOut;
        if (!result.truncated && !result.stdout.includes('\uFFFD') && !result.stderr.includes('\uFFFD')) {
          // The combined stream is stdout and stderr interleaved, so what was returned ends exactly here: a later
          // manage_process read starts after it instead of repeating it.
          cursors.set(result.sessionId, 'combined', Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr));
        }
        const hints: string[] = [];
        if (running) {
          hints.push(
            `Still running after ${args.timeout ?? MCP_DEFAULT_EXEC_TIMEOUT_MS} ms as pid ${result.pid} (session ${result.sessionId}). ` +
              `Read its output with manage_process {action:"read", pid:${result.pid}}, stop it with {action:"kill", pid:${result.pid}}, ` +
              `or wait with wait_for {sessionId:"${result.sessionId}", exit:true}.`,
          );
        }
        if (result.truncated) {
          hints.push(`Output was truncated; read the rest with read_output {sessionId:"${result.sessionId}", stream:"stdout" or "stderr", since:<bytes already seen>}.`);
        }
        const structured = {
          stdout: result.stdout,
          stderr: result.stderr,
          exitCode: result.exitCode,
          signal: result.signal,
          timedOut: result.timedOut,
          truncated: result.truncated,
          running,
          sessionId: result.sessionId,
          pid: result.pid,
          durationMs: result.durationMs,
          ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
        };
        return ok(structured);
      }),
  );

  // ---- manage_process --------------------------------------------------------------------------------------

  const processSchema = z.object({
    pid: z.number().nullable(),
    sessionId: z.string(),
    command: z.string(),
    state: z.string(),
    running: z.boolean(),
    exitCode: z.number().nullable(),
    exitSignal: z.string().nullable(),
    createdAt: z.string(),
  });
  const toProcess = (s: SessionInfo): z.infer<typeof processSchema> => ({
    pid: s.pid,
    sessionId: s.id,
    command: s.command.join(' '),
    state: s.state,
    running: isRunning(s),
    exitCode: s.exit?.code ?? null,
    exitSignal: s.exit?.signal ?? null,
    createdAt: s.createdAt,
  });

  server.registerTool(
    'manage_process',
    {
      title: 'List, read or kill background processes',
      description:
        'Manage processes Corral runs (background commands from execute_command and sessions). ' +
        'action "list": running and recent processes with pid and sessionId. ' +
        'action "read" (pid or sessionId): output since this connection last read it, or from "since"; reading never consumes, other readers lose nothing. ' +
        'action "kill" (pid or sessionId): ends the whole process tree (children, grandchildren, even ones that called setsid); ' +
        'signal "SIGKILL" skips the grace periods; another signal (e.g. "SIGINT", "SIGSTOP") is only sent to its process group.',
      inputSchema: {
        action: z.enum(['list', 'read', 'kill']),
        pid: z.number().int().min(1).optional().describe('Process id from execute_command or list.'),
        sessionId: sessionIdArg.optional(),
        signal: z.enum(SIGNAL_NAMES).optional().describe('For kill: omit (or SIGTERM) for the polite escalation, SIGKILL for at once.'),
        since: z.number().int().min(0).optional().describe('For read: byte offset to read from (default: where this connection last stopped).'),
        maxBytes: maxBytesArg.optional(),
        limit: z.number().int().min(1).max(MAX_LIST).optional().describe(`For list: how many (default ${DEFAULT_LIST}).`),
      },
      outputSchema: {
        action: z.string(),
        processes: z.array(processSchema).optional(),
        process: processSchema.optional(),
        output: z.object(outputReadSchema).optional(),
        hint: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        if (args.action === 'list') {
          const sessions = await backend.listSessions({ limit: args.limit ?? DEFAULT_LIST });
          const live = sessions.filter(isRunning);
          const ended = sessions.filter((s) => !isRunning(s));
          return ok({ action: 'list', processes: [...live, ...ended].map(toProcess) });
        }
        const target = await resolveProcess(args);
        if (args.action === 'read') {
          const output = await readBounded(target.id, { since: args.since, maxBytes: args.maxBytes, stream: 'combined' });
          return ok({ action: 'read', process: toProcess(target), output });
        }
        if (args.signal !== undefined && args.signal !== 'SIGTERM' && args.signal !== 'SIGKILL') {
          const after = await backend.signal(target.id, args.signal);
          return ok({ action: 'kill', process: toProcess(after), hint: `Sent ${args.signal} to the process group of pid ${target.pid}.` });
        }
        const ended = await backend.terminate(target.id, { force: args.signal === 'SIGKILL' });
        return ok({
          action: 'kill',
          process: toProcess(ended),
          hint: `Ended pid ${target.pid} and its whole process tree (${ended.exit?.reason ?? 'terminated'}${ended.exit?.forced === true ? ', forced' : ''}).`,
        });
      }),
  );

  // ---- session tools ---------------------------------------------------------------------------------------

  const create = createSessionSchema.shape;
  const shellExec = shellExecSchema.shape;
  const promptArgs = promptSchema.shape;
  const answerArgs = answerSchema.shape;
  server.registerTool(
    'create_session',
    {
      title: 'Start a session',
      description:
        'Start a terminal session: an interactive shell (profile "shell", the default with no command), an agent CLI (profile "claude", "codex", "gemini"), ' +
        'or any program (give "command" as argv), or from a stored template (its fields under yours). It keeps running until terminate_session. ' +
        'With a taskId that already has a live session, that session is returned (forceNew: true starts another). ' +
        'Then: exec_command (shells), prompt_agent (agents), send_input, wait_for, read_output / read_screen.',
      inputSchema: {
        template: create.template.describe('Name of a stored session template (profile, command, env, size, limits); fields given here win.'),
        profile: create.profile.describe('Profile name: shell, command, claude, codex, gemini, or a user-defined one.'),
        command: create.command.describe('argv, e.g. ["python3", "-i"] (no shell parsing).'),
        cwd: create.cwd.describe('Working directory under a workspace root (default: the first root).'),
        env: create.env.describe('Extra environment variables.'),
        taskId: create.taskId.describe('Your task id; one live session per task.'),
        name: create.name.describe('A human-readable name.'),
        kind: create.kind.describe('"pty" (a terminal, default) or "pipe" (stdout/stderr apart, no terminal).'),
        cols: create.cols,
        rows: create.rows,
        forceNew: create.forceNew,
        agent: create.agent.describe(
          'Agent sessions: authToken (redacted everywhere), isolatedHome, preAnswer (with isolatedHome: trust the cwd and approve the token beforehand), autoAnswer dialog ids.',
        ),
      },
      outputSchema: { session: sessionSummarySchema, hint: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    (args) =>
      guarded(async () => {
        const info = await backend.createSession(args);
        return ok({
          session: summarize(info),
          hint: `Session ${info.id} is ${info.state}. Next: wait_for {states:["ready","idle"]}, then exec_command (shell) or prompt_agent (agent); send_input, read_output, read_screen.`,
        });
      }),
  );

  server.registerTool(
    'send_input',
    {
      title: 'Type into a session',
      description:
        'Write text and/or press named keys in a session, text first. Keys: Enter, Escape, Tab, Backspace, Delete, Up, Down, Left, Right, Home, End, ' +
        'PageUp, PageDown, F1…F12, C-a…C-z (Ctrl), M-<char> (Alt). To run a line in a shell: text "ls -la" and keys ["Enter"]. eof: true closes stdin (pipe sessions).',
      inputSchema: {
        sessionId: sessionIdArg,
        text: z.string().max(MAX_INPUT_BYTES).optional().describe('Text typed as is (no Enter added).'),
        keys: z.array(z.string().max(32)).max(256).optional().describe('Named keys pressed after the text, e.g. ["Enter"] or ["C-c"].'),
        eof: z.boolean().optional().describe('Close stdin after writing (pipe sessions).'),
      },
      outputSchema: { session: sessionSummarySchema },
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        if (args.text === undefined && args.keys === undefined && args.eof !== true) {
          throw new CorralError('VALIDATION_FAILED', 'Give text, keys or eof: true.');
        }
        const info = await backend.sendInput(args.sessionId, { data: args.text, keys: args.keys, eof: args.eof });
        return ok({ session: summarize(info) });
      }),
  );

  server.registerTool(
    'exec_command',
    {
      title: 'Run a command in a shell session',
      description:
        'Run a command line in an interactive shell session (create_session with profile "shell") and return its output, exit code, duration and the ' +
        "shell's cwd after it. Boundaries are exact (the shell marks command start and end itself), multi-line commands and heredocs work, and state " +
        '(cd, exported variables) carries over to the next call. One command at a time per session: while one runs the call fails with SESSION_BUSY. ' +
        'Past timeoutMs the command keeps running (timedOut: true): wait_for {states:["idle"]}, read_output, or interrupt with send_input {keys:["C-c"]}. ' +
        'For a one-off command that needs no shell state, execute_command is simpler.',
      inputSchema: {
        sessionId: sessionIdArg,
        command: shellExec.command.describe('The command line as typed at the prompt, e.g. "cd src && ls"; may span lines.'),
        timeoutMs: shellExec.timeoutMs.describe(`Milliseconds to wait for it (default ${MCP_DEFAULT_EXEC_TIMEOUT_MS}); past it the command keeps running.`),
        format: shellExec.format.describe('"text" (default): escapes stripped; "raw": the bytes as the terminal got them.'),
        maxOutputBytes: maxBytesArg.optional(),
      },
      outputSchema: {
        output: z.string(),
        exitCode: z.number().nullable().describe('$? as the shell saw it (128+n: killed by signal n); null while still running.'),
        durationMs: z.number(),
        cwd: z.string().nullable(),
        timedOut: z.boolean(),
        truncated: z.boolean(),
        seq: z.number().describe("This command's number in the session's command history."),
        outputStart: z.number().describe('Byte offset of its output in the session (read_output since).'),
        outputEnd: z.number(),
        hint: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (args, extra) =>
      guarded(async () => {
        const timeoutMs = args.timeoutMs ?? MCP_DEFAULT_EXEC_TIMEOUT_MS;
        let result;
        try {
          result = await backend.shellExec(
            args.sessionId,
            { command: args.command, timeoutMs, format: args.format, maxOutputBytes: args.maxOutputBytes ?? MCP_DEFAULT_OUTPUT_BYTES },
            extra.signal,
          );
        } catch (error) {
          // The engine's SESSION_BUSY text names REST routes; a model needs the tools that do the same.
          if (codeOf(error) !== 'SESSION_BUSY') throw error;
          return toolError(
            new CorralError(
              'SESSION_BUSY',
              `Session ${args.sessionId} is ${stateOf(error)}: a command is still running there and exec_command runs only at a prompt. ` +
                `Wait for it with wait_for {sessionId:"${args.sessionId}", states:["idle"]}, or interrupt it with send_input {sessionId:"${args.sessionId}", keys:["C-c"]}, then call exec_command again.`,
            ),
          );
        }
        if (!result.truncated) cursors.set(args.sessionId, 'combined', result.outputEnd);
        const hints: string[] = [];
        if (result.timedOut) {
          hints.push(
            `Still running after ${timeoutMs} ms. Wait with wait_for {sessionId:"${args.sessionId}", states:["idle"]}, read more with read_output ` +
              `{sessionId:"${args.sessionId}"}, or interrupt with send_input {sessionId:"${args.sessionId}", keys:["C-c"]}.`,
          );
        }
        if (result.truncated) {
          hints.push(`Output was truncated; read all of it with read_output {sessionId:"${args.sessionId}", since:${result.outputStart}}.`);
        }
        return ok({
          output: result.output,
          exitCode: result.exitCode,
          durationMs: result.durationMs,
          cwd: result.cwd,
          timedOut: result.timedOut,
          truncated: result.truncated,
          seq: result.seq,
          outputStart: result.outputStart,
          outputEnd: result.outputEnd,
          ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
        });
      }),
  );

  server.registerTool(
    'prompt_agent',
    {
      title: 'Prompt an agent session',
      description:
        'Send a prompt to an agent CLI session (e.g. profile "claude") as its user message and wait until the turn ends (state idle: "reply" is what ' +
        'the agent answered) or the agent asks something (state waiting_input: read_screen shows the dialog, answer it with answer). ' +
        'The session must be ready or idle (wait_for {states:["ready","idle"]} first). Past timeoutMs the turn goes on (timedOut: true).',
      inputSchema: {
        sessionId: sessionIdArg,
        text: promptArgs.text.describe('The prompt, as a person would type it (newlines allowed).'),
        timeoutMs: promptArgs.timeoutMs.describe(`Milliseconds to wait for the turn (default ${MCP_DEFAULT_PROMPT_MS}); past it the agent keeps working.`),
      },
      outputSchema: {
        state: z.string().describe('idle (turn over), waiting_input (a question), busy (timed out), error, terminated.'),
        reply: z.string().nullable(),
        replySource: z.string().nullable().describe('hook, transcript or screen: where the reply was read.'),
        error: z.string().nullable(),
        timedOut: z.boolean(),
        durationMs: z.number(),
        session: sessionSummarySchema,
        hint: z.string().optional(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (args, extra) =>
      guarded(async () => {
        const timeoutMs = args.timeoutMs ?? MCP_DEFAULT_PROMPT_MS;
        let result;
        try {
          result = await backend.prompt(args.sessionId, { text: args.text, timeoutMs }, extra.signal);
        } catch (error) {
          const code = codeOf(error);
          const id = args.sessionId;
          // The engine names REST routes; a model needs the tools that do the same.
          if (code === 'SESSION_BUSY') {
            return toolError(
              new CorralError(
                code,
                `Session ${id} is ${stateOf(error)}: it takes a prompt only when ready or idle. Wait with wait_for {sessionId:"${id}", states:["idle","ready","waiting_input"]}, ` +
                  `or interrupt the turn with send_input {sessionId:"${id}", keys:["Escape"]}, then prompt again.`,
              ),
            );
          }
          if (code === 'INVALID_STATE') {
            return toolError(
              new CorralError(
                code,
                `Session ${id} is ${stateOf(error)}: a dialog is waiting. Look at it with read_screen {sessionId:"${id}"} and answer it with answer {sessionId:"${id}", choice}, then prompt again.`,
              ),
            );
          }
          throw error;
        }
        const hints: string[] = [];
        if (result.state === 'waiting_input') {
          hints.push(`The agent asks something: read_screen {sessionId:"${args.sessionId}"} shows the dialog; answer it with answer {sessionId:"${args.sessionId}", choice}.`);
        } else if (result.timedOut) {
          hints.push(`The turn is still running after ${timeoutMs} ms: wait_for {sessionId:"${args.sessionId}", states:["idle","waiting_input"]}, then read_output or read_screen.`);
        }
        if (result.error !== null) hints.push(`The agent reported an error: ${result.error}`);
        return ok({
          state: result.state,
          reply: result.reply,
          replySource: result.replySource,
          error: result.error,
          timedOut: result.timedOut,
          durationMs: result.durationMs,
          session: summarize(result.session),
          ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
        });
      }),
  );

  server.registerTool(
    'answer',
    {
      title: "Answer an agent's question",
      description:
        'Answer the dialog an agent session shows (state waiting_input: a permission prompt, a trust question, an API-key confirmation) by option ' +
        'number (1, 2, …) or by the option\'s text ("Yes", "No, and tell Claude what to do differently"). read_screen shows the options. ' +
        'Waits until the dialog is gone and answers the state after it.',
      inputSchema: {
        sessionId: sessionIdArg,
        choice: answerArgs.choice.describe('The option number as shown (1, 2, …) or its text (or the start of it).'),
        timeoutMs: answerArgs.timeoutMs.describe('Milliseconds to wait for the dialog to go away (default 10000).'),
      },
      outputSchema: { dialog: z.string(), choice: z.string(), state: z.string(), session: sessionSummarySchema, hint: z.string().optional() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    (args, extra) =>
      guarded(async () => {
        let result;
        try {
          result = await backend.answer(args.sessionId, { choice: args.choice, timeoutMs: args.timeoutMs }, extra.signal);
        } catch (error) {
          // No dialog on screen: say what the session is doing instead of naming a REST route.
          if (codeOf(error) !== 'INVALID_STATE') throw error;
          return toolError(
            new CorralError(
              'INVALID_STATE',
              `Session ${args.sessionId} shows no dialog to answer (state ${stateOf(error)}). read_screen {sessionId:"${args.sessionId}"} shows what it displays; ` +
                'prompt_agent sends a new prompt when it is idle.',
            ),
          );
        }
        const busy = result.state === 'busy';
        return ok({
          dialog: result.dialog,
          choice: result.choice,
          state: result.state,
          session: summarize(result.session),
          ...(busy ? { hint: `The agent goes on: wait_for {sessionId:"${args.sessionId}", states:["idle","waiting_input"]}.` } : {}),
        });
      }),
  );

  server.registerTool(
    'read_output',
    {
      title: 'Read session output',
      description:
        'Read a session\'s output as text (ANSI stripped) or raw UTF-8, from "since" (a byte offset) or, by default, from where this connection last read it. ' +
        'Never consumes. Bounded per call: when "more" is true, read again to continue from nextOffset.',
      inputSchema: {
        sessionId: sessionIdArg,
        since: z.number().int().min(0).optional().describe('Byte offset to start at (0 = the beginning). Default: where this connection stopped.'),
        format: z.enum(['text', 'raw']).optional().describe('"text" (default): escapes stripped, carriage returns resolved; "raw": bytes as UTF-8.'),
        stream: streamArg.optional(),
        maxBytes: maxBytesArg.optional(),
      },
      outputSchema: outputReadSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const output = await readBounded(args.sessionId, args);
        return ok(output);
      }),
  );

  server.registerTool(
    'read_screen',
    {
      title: 'Read the terminal screen',
      description:
        'The rendered terminal of a pty session as rows of text with the cursor position — what a person would see. Best for TUIs and agent CLIs.',
      inputSchema: { sessionId: sessionIdArg },
      outputSchema: {
        cols: z.number(),
        rows: z.number(),
        lines: z.array(z.string()),
        cursor: z.object({ x: z.number(), y: z.number() }),
        title: z.string(),
        alternateScreen: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const screen = await backend.readScreen(args.sessionId);
        const structured = {
          cols: screen.cols,
          rows: screen.rows,
          lines: screen.lines,
          cursor: screen.cursor,
          title: screen.title,
          alternateScreen: screen.alternateScreen,
        };
        const text = `${screen.cols}x${screen.rows}, cursor at row ${screen.cursor.y} col ${screen.cursor.x}\n${screen.lines.join('\n').replace(/\s+$/, '')}`;
        return ok(structured, text);
      }),
  );

  server.registerTool(
    'wait_for',
    {
      title: 'Wait for a state, output or exit',
      description:
        'Block until the session reaches one of "states", its output matches "pattern" (a regex; output produced after the call starts unless "since" is given), ' +
        'or it exits ("exit": true) — or until timeoutMs. Use this instead of polling. matched: false means the timeout came first.',
      inputSchema: {
        sessionId: sessionIdArg,
        states: z.array(z.enum(SESSION_STATES)).min(1).optional().describe('e.g. ["idle", "waiting_input"].'),
        pattern: z.string().min(1).max(MAX_PATTERN_LENGTH).optional().describe('Regular expression searched in the output, e.g. "\\\\$ $" or "Tests: \\\\d+ passed".'),
        since: z.number().int().min(0).optional().describe('Search the pattern from this byte offset (e.g. 0 to include output already produced).'),
        screen: z.boolean().optional().describe('Also match the pattern against the rendered screen.'),
        exit: z.boolean().optional().describe('Wait for the process to exit.'),
        timeoutMs: z.number().int().min(0).max(MAX_WAIT_MS).optional().describe(`Default ${MCP_DEFAULT_WAIT_MS}.`),
      },
      outputSchema: { matched: z.boolean(), outcome: z.string(), session: sessionSummarySchema, hint: z.string().optional() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args, extra) =>
      guarded(async () => {
        if (args.states === undefined && args.pattern === undefined && args.exit !== true) {
          throw new CorralError('VALIDATION_FAILED', 'Give states, pattern or exit: true.');
        }
        const timeoutMs = args.timeoutMs ?? MCP_DEFAULT_WAIT_MS;
        const result = await backend.wait(
          args.sessionId,
          { states: args.states, pattern: args.pattern, since: args.since, screen: args.screen, exit: args.exit, timeoutMs },
          extra.signal,
        );
        return ok({
          matched: result.matched,
          outcome: result.outcome,
          session: summarize(result.session),
          ...(result.matched
            ? {}
            : { hint: `Not matched (${result.outcome}) after ${timeoutMs} ms; the session is ${result.session.state}. Read its output or screen, or wait again.` }),
        });
      }),
  );

  server.registerTool(
    'list_sessions',
    {
      title: 'List sessions',
      description: 'Sessions newest first, running and recently ended, with state, pid and exit.',
      inputSchema: {
        live: z.boolean().optional().describe('true: only running sessions; false: only ended ones.'),
        limit: z.number().int().min(1).max(MAX_LIST).optional().describe(`Default ${DEFAULT_LIST}.`),
      },
      outputSchema: { sessions: z.array(sessionSummarySchema) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const sessions = await backend.listSessions({ live: args.live, limit: args.limit ?? DEFAULT_LIST });
        return ok({ sessions: sessions.map(summarize) });
      }),
  );

  server.registerTool(
    'terminate_session',
    {
      title: 'End a session',
      description:
        "End a session and its whole process tree: the profile's polite exit, then SIGINT, SIGTERM, SIGKILL, then a sweep of every descendant. " +
        'force: true goes straight to SIGKILL. Answers the ended session with its exit.',
      inputSchema: { sessionId: sessionIdArg, force: z.boolean().optional() },
      outputSchema: { session: sessionSummarySchema },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const info = await backend.terminate(args.sessionId, { force: args.force === true });
        return ok({ session: summarize(info) });
      }),
  );

  return server;
}
