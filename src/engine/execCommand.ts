// `POST /exec`: a command run once as a pipe session, its stdin written and closed, its stdout and stderr answered
// inline up to a bound. Past the timeout the command keeps running as an ordinary session; the reply names it.

import { performance } from 'node:perf_hooks';
import type { CreateSessionRequest, ExecRequest, ExecResult } from '../protocol/api.js';
import type { Session } from './Session.js';

/** Default timeout: long enough for a build step, short enough that a forgotten call returns. */
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
/** Default bytes of each stream returned inline. */
const DEFAULT_EXEC_OUTPUT_BYTES = 1024 * 1024;

/** `create` starts a session (the manager's create: limits, persistence, events). */
export async function execCommand(
  create: (request: CreateSessionRequest) => Promise<Session>,
  request: ExecRequest,
  signal?: AbortSignal,
): Promise<ExecResult> {
  const started = performance.now();
  const command = typeof request.command === 'string' ? ['/bin/sh', '-c', request.command] : request.command;
  const session = await create({
    profile: 'command',
    kind: 'pipe',
    command,
    cwd: request.cwd,
    env: request.env,
    name: request.name,
    taskId: request.taskId,
    forceNew: true,
  });
  if (request.stdin !== undefined) session.write(request.stdin);
  session.closeInput();
  const timeoutMs = request.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const outcome = await session.waitFor({ exit: true }, timeoutMs, signal);
  const max = request.maxOutputBytes ?? DEFAULT_EXEC_OUTPUT_BYTES;
  const read = (stream: 'stdout' | 'stderr'): { text: string; truncated: boolean } => {
    const out = session.readOutput({ since: 0, format: 'raw', encoding: 'utf8', maxBytes: max, stream });
    return { text: out.data, truncated: out.gap > 0 || out.nextOffset < session.streamFor(stream).endOffset };
  };
  const stdout = read('stdout');
  const stderr = read('stderr');
  const exit = session.exit;
  return {
    stdout: stdout.text,
    stderr: stderr.text,
    exitCode: exit?.code ?? null,
    signal: exit?.signal ?? null,
    timedOut: outcome === 'timeout',
    truncated: stdout.truncated || stderr.truncated,
    sessionId: session.id,
    pid: session.pid,
    durationMs: Math.round(performance.now() - started),
  };
}
