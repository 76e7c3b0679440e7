// The argument and result shapes several Corral MCP tools share: a session id, a stream, a byte bound, a session's
// summary for a model, an output read, a process row. Shapes only; no tool logic.

import { z } from 'zod';
import type { OutputStreamName } from '../../protocol/apiReplies.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import { MCP_DEFAULT_OUTPUT_BYTES, MCP_MAX_OUTPUT_BYTES } from './toolLimits.js';

/** Loose on purpose: a malformed id still reaches the engine, whose error names the live sessions. */
export const sessionIdArg = z.string().min(1).max(128).describe('Session id, e.g. "s_Ab3…" (from create_session, list_sessions or execute_command).');
export const streamArg = z
  .enum(['combined', 'stdout', 'stderr'])
  .describe('Which output: "combined" (default; everything in order), or "stdout"/"stderr" apart (pipe sessions only).');
export const maxBytesArg = z
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

/** An agent session's CLI: its version against the verified ones, the dialog it waits on, its last error. */
const agentSummarySchema = z.object({
  version: z.string().nullable().describe('The CLI version (null until read, a moment after start).'),
  versionVerified: z.boolean().nullable().describe('false: a version the profile was not verified with; watch for profile_mismatch.'),
  verifiedVersions: z.array(z.string()),
  dialog: z
    .object({
      id: z.string(),
      state: z.enum(['waiting_input', 'authenticating']),
      question: z.string(),
      options: z.array(z.object({ index: z.number(), label: z.string(), number: z.number().nullable(), selected: z.boolean() })),
      takesKeys: z.boolean(),
    })
    .nullable()
    .describe('The dialog on screen; answer it with the answer tool (option number or label).'),
  pendingTool: z.string().nullable(),
  lastError: z.string().nullable(),
});

export const sessionSummarySchema = z.object({
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
  agent: agentSummarySchema.optional().describe('Agent sessions only.'),
  node: z.string().optional().describe('A fleet: the node the session runs on.'),
  reachable: z.boolean().optional().describe('A fleet: false while its node is not answering (state is the last known).'),
});
type SessionSummary = z.infer<typeof sessionSummarySchema>;

export function summarize(info: SessionInfo): SessionSummary {
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
    ...(info.agent === undefined ? {} : { agent: info.agent }),
    ...(info.node === undefined ? {} : { node: info.node }),
    ...(info.reachable === undefined ? {} : { reachable: info.reachable }),
  };
}

export const outputReadSchema = {
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
export type BoundedRead = z.infer<z.ZodObject<typeof outputReadSchema>>;

export const processSchema = z.object({
  pid: z.number().nullable(),
  sessionId: z.string(),
  command: z.string(),
  state: z.string(),
  running: z.boolean(),
  exitCode: z.number().nullable(),
  exitSignal: z.string().nullable(),
  createdAt: z.string(),
});

export function toProcess(s: SessionInfo): z.infer<typeof processSchema> {
  return {
    pid: s.pid,
    sessionId: s.id,
    command: s.command.join(' '),
    state: s.state,
    running: isRunning(s),
    exitCode: s.exit?.code ?? null,
    exitSignal: s.exit?.signal ?? null,
    createdAt: s.createdAt,
  };
}

export function isRunning(info: SessionInfo): boolean {
  return info.state !== 'terminated';
}

export function endOffset(info: SessionInfo, stream: OutputStreamName): number {
  if (stream === 'stdout') return info.output.stdoutBytes;
  if (stream === 'stderr') return info.output.stderrBytes;
  return info.output.totalBytes;
}
