// `corral run`: a one-shot command (POST /api/v1/exec) whose stdout and stderr go to ours and whose exit code
// becomes ours; past --timeout it keeps running in the background and we exit 4 naming its session and pid.

import { constants } from 'node:os';
import type { ExecRequest } from '../../protocol/api.js';
import type { Corral } from '../../client/Corral.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { formatDuration } from '../output/duration.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, durationOption, envOption, writeJson } from './commandKit.js';

const USAGE = `Usage: corral run [--timeout 30s] [--cwd DIR] [--env K=V]… [--json] [--raw] -- argv…
       corral run [options] "shell command"

Runs a command in a pipe session and exits with its exit code (128+N when signal N ended it).
One argument without -- runs through /bin/sh -c. Past --timeout the command keeps running in the background:
its session id and pid go to stderr and the exit code is 4. Output to a terminal has control characters made
visible unless --raw; output to a pipe or file is passed through as the command wrote it.`;

const DEFAULT_TIMEOUT_MS = 30_000;
/** The daemon's longest wait (api.ts MAX_WAIT_MS, one hour). */
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
  summary: 'run a one-shot command; its stdout, stderr and exit code become ours (--timeout 30s)',
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
    const timeoutMs = durationOption(values.timeout, 'timeout', DEFAULT_TIMEOUT_MS);
    if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) throw new UsageError(`--timeout: from 1ms to ${formatDuration(MAX_TIMEOUT_MS)}`);
    const api = client(values, io);
    const request: ExecRequest = {
      command,
      cwd: values.cwd,
      env: envOption(values.env),
      name: values.name,
      timeoutMs: Math.min(timeoutMs, REQUEST_SLICE_MS),
    };
    const deadline = performance.now() + timeoutMs;
    let result = await api.exec(request);
    let readBack = result.truncated;
    // Longer timeouts than one request: keep waiting for the exit (the client long-polls in slices).
    const remaining = Math.round(deadline - performance.now());
    if (result.timedOut && remaining > 0) {
      const waited = await api.sessions.wait(result.sessionId, { exit: true, timeoutMs: remaining });
      if (waited.matched && waited.session.exit !== null) {
        result = { ...result, timedOut: false, exitCode: waited.session.exit.code, signal: waited.session.exit.signal };
        readBack = true;
      }
    }
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
        `corral: still running after ${formatDuration(timeoutMs)}: session ${result.sessionId} pid ${result.pid ?? '-'}` +
          ` (corral logs ${result.sessionId} -f; corral kill ${result.sessionId})\n`,
      );
    }
    return code;
  },
});
