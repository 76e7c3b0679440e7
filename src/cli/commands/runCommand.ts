// `corral run`: a one-shot command (POST /api/v1/exec) in the caller's directory whose stdout and stderr go to ours
// and whose exit code becomes ours. It waits as long as the command runs; Ctrl-C ends the command (the session,
// whole tree). Only with --timeout does it give up waiting: the command keeps running and we exit 4 naming it.

import { randomUUID } from 'node:crypto';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecRequest } from '../../protocol/api.js';
import type { ExecResult } from '../../protocol/api.js';
import { CorralClientError } from '../../client/CorralClientError.js';
import type { Corral } from '../../client/Corral.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { formatDuration } from '../output/duration.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, durationOption, envOption, sessionCwd, withCwdHint, writeJson } from './commandKit.js';

const USAGE = `Usage: corral run [--timeout DURATION] [--cwd DIR] [--env K=V]… [--json] [--raw] -- argv…
       corral run [options] "shell command"

Runs a command in a pipe session and exits with its exit code (128+N when signal N ended it).
It runs in your current directory (or --cwd DIR), which must lie under one of the daemon's --root directories.
One argument without -- runs through /bin/sh -c. It waits for the command however long it takes; Ctrl-C ends
the command (its whole process tree) and exits 130. With --timeout (e.g. 30s, 10m), past it the command keeps
running in the background: its session id and pid go to stderr and the exit code is 4. Output to a terminal has control characters made
visible unless --raw; output to a pipe or file is passed through as the command wrote it.`;

/** The daemon's longest wait (api.ts MAX_WAIT_MS, one hour); without --timeout we wait in such slices forever. */
const MAX_TIMEOUT_MS = 60 * 60 * 1000;
/**
 * The exec request waits at most this long, then the client's sliced wait takes over: Node's fetch (undici) gives
 * up on a reply whose headers take over 300 s.
 */
const REQUEST_SLICE_MS = 60_000;

/** Shell convention for a process a signal ended: 128 + the signal's number. */
function exitCodeOf(result: { exitCode: number | null; signal: string | null }): number {
  if (result.exitCode !== null) return result.exitCode;
  if (result.signal !== null) {
    const number = (constants.signals as Record<string, number | undefined>)[result.signal];
    if (number !== undefined) return 128 + number;
  }
  return EXIT.failure;
}

/** All of one stream of a session, read by cursor (used when the exec reply was truncated or came early). */
async function readStream(api: Corral, id: string, stream: 'stdout' | 'stderr'): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const page of api.sessions.output(id, { stream, follow: false })) chunks.push(page.data);
  return Buffer.concat(chunks);
}

/** A terminal is a viewer (neutralize); a pipe or file is a consumer that expects the command's own bytes. */
function wantsBytes(stream: NodeJS.WriteStream, raw: boolean): boolean {
  return raw || stream.isTTY !== true;
}

function writeStream(stream: NodeJS.WriteStream, data: Buffer | string, raw: boolean): void {
  if (data.length === 0) return;
  if (wantsBytes(stream, raw)) stream.write(data);
  else stream.write(neutralize(typeof data === 'string' ? data : data.toString('utf8')));
}

export const runCommand = clientCommand({
  name: 'run',
  summary: 'run a one-shot command here; its stdout, stderr and exit code become ours (Ctrl-C ends it)',
  usage: USAGE,
  options: {
    timeout: { type: 'string' },
    cwd: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    raw: { type: 'boolean', default: false },
    name: { type: 'string' },
  },
  run: async ({ values, positionals, tokens }, io) => {
    if (positionals.length === 0) throw new UsageError(`give a command\n${USAGE}`);
    const dashed = tokens.some((token) => token.kind === 'option-terminator');
    const command: string | string[] = !dashed && positionals.length === 1 ? (positionals[0] ?? '') : positionals;
    const timeoutMs = values.timeout === undefined ? null : durationOption(values.timeout, 'timeout', MAX_TIMEOUT_MS);
    if (timeoutMs !== null && (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)) {
      throw new UsageError(`--timeout: from 1ms to ${formatDuration(MAX_TIMEOUT_MS)}`);
    }
    const api = client(values, io);
    const cwd = sessionCwd(values.cwd);
    // Its own task id: Ctrl-C can end the session before the exec reply has named it.
    const taskId = `corral-run-${randomUUID()}`;
    const request: ExecRequest = {
      command,
      cwd: cwd.cwd,
      env: envOption(values.env),
      name: values.name,
      taskId,
      timeoutMs: Math.min(timeoutMs ?? REQUEST_SLICE_MS, REQUEST_SLICE_MS),
    };
    const interrupt = new AbortController();
    const onInterrupt = (): void => interrupt.abort();
    process.on('SIGINT', onInterrupt);
    let finished: Finished;
    try {
      finished = await execToExit(api, request, timeoutMs, interrupt.signal, cwd);
    } catch (error) {
      if (!interrupt.signal.aborted) throw error;
      finished = { interrupted: true };
    } finally {
      process.off('SIGINT', onInterrupt);
    }
    if ('interrupted' in finished) return endInterrupted(api, taskId, io);
    const readBack = finished.readBack;
    let result = finished.result;
    let stdout: Buffer | string = result.stdout;
    let stderr: Buffer | string = result.stderr;
    if (readBack) {
      stdout = await readStream(api, result.sessionId, 'stdout');
      stderr = await readStream(api, result.sessionId, 'stderr');
      result = { ...result, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), truncated: false };
    }
    const code = result.timedOut ? EXIT.timeout : exitCodeOf(result);
    if (values.json) {
      writeJson(io, result);
      return code;
    }
    // The exec reply is UTF-8 text: invalid sequences are already U+FFFD there. A pipe, a file or --raw gets the
    // command's own bytes, so those streams are read back as bytes (base64) unless they already were.
    if (!readBack && wantsBytes(io.stdout, values.raw)) stdout = await readStream(api, result.sessionId, 'stdout');
    if (!readBack && wantsBytes(io.stderr, values.raw)) stderr = await readStream(api, result.sessionId, 'stderr');
    writeStream(io.stdout, stdout, values.raw);
    writeStream(io.stderr, stderr, values.raw);
    if (result.timedOut) {
      io.stderr.write(
        `corral: still running after ${formatDuration(timeoutMs ?? 0)}: session ${result.sessionId} pid ${result.pid ?? '-'}` +
          ` (corral logs ${result.sessionId} -f; corral kill ${result.sessionId})\n`,
      );
    }
    return code;
  },
});

type Finished = { result: ExecResult; readBack: boolean } | { interrupted: true };

/** The exec, then (for a command that outlives one request) long-poll waits until it exits or --timeout passes. */
async function execToExit(
  api: Corral,
  request: ExecRequest,
  timeoutMs: number | null,
  signal: AbortSignal,
  cwd: { cwd: string; implicit: boolean },
): Promise<Finished> {
  const deadline = timeoutMs === null ? Infinity : performance.now() + timeoutMs;
  let result = await withCwdHint(cwd, () => api.exec(request, { signal }));
  let readBack = result.truncated;
  while (result.timedOut) {
    const remaining = Math.min(MAX_TIMEOUT_MS, Math.round(deadline - performance.now()));
    if (remaining <= 0) break;
    const waited = await api.sessions.wait(result.sessionId, { exit: true, timeoutMs: remaining }, { signal });
    if (waited.matched && waited.session.exit !== null) {
      result = { ...result, timedOut: false, exitCode: waited.session.exit.code, signal: waited.session.exit.signal };
      readBack = true;
    }
  }
  return { result, readBack };
}

/** Attempts to find the interrupted command's session when Ctrl-C came before the daemon had created it. */
const END_TASK_ATTEMPTS = 20;
const END_TASK_RETRY_MS = 100;

/** Ctrl-C: end the command's session (whole tree) and exit as a shell does for SIGINT, 128 + 2. */
async function endInterrupted(api: Corral, taskId: string, io: { stderr: NodeJS.WriteStream }): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { ended } = await api.endTask(taskId);
      io.stderr.write(`corral: interrupted; ended ${ended.map((s) => `session ${s.id}`).join(', ') || 'the command'}\n`);
      break;
    } catch (error) {
      // TASK_NOT_FOUND: the exec request may still be on its way to the daemon; look again shortly.
      if (!(error instanceof CorralClientError) || error.code !== 'TASK_NOT_FOUND' || attempt >= END_TASK_ATTEMPTS) throw error;
      await sleep(END_TASK_RETRY_MS);
    }
  }
  return 128 + constants.signals.SIGINT;
}
