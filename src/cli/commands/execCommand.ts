// `corral exec <id> <command>`: runs a command in a shell session (POST …/commands) and prints its output.
// Exit status: the command's own exit code, as `corral run` passes it through; 4 when it was still running at
// --timeout (it keeps running).

import { EXIT, UsageError } from '../cliCommand.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, durationOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral exec <id> <command> [--timeout 30s] [--raw] [--json]

Runs <command> (one argument; newlines and heredocs allowed) in the shell session <id> and prints its output.
Exit status: the command's own exit code (as with corral run: \`exec $id '(exit 7)'\` exits 7), 4 if it was still
running at --timeout (it keeps running), 1 if the shell reported no code.
A busy session (a command already running) refuses with SESSION_BUSY (exit 2): wait for idle, then retry.
  --raw   print the bytes as the terminal got them (escapes included)`;

/** Default --timeout: the same as the API's default. */
const DEFAULT_TIMEOUT_MS = 30_000;

export const execCommand = clientCommand({
  name: 'exec',
  summary: 'run a command in a shell session: its output, exit code and cwd (exact, from shell integration)',
  usage: USAGE,
  options: { timeout: { type: 'string', short: 't' }, raw: { type: 'boolean', default: false } },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const command = positionals.slice(1).join(' ');
    if (command.trim() === '') throw new UsageError(`a command is required\n${USAGE}`);
    const timeoutMs = durationOption(values.timeout, 'timeout', DEFAULT_TIMEOUT_MS);
    const result = await client(values, io).sessions.exec(id, { command, timeoutMs, ...(values.raw ? { format: 'raw' } : {}) });
    if (values.json) writeJson(io, result);
    else {
      io.stdout.write(values.raw ? result.output : neutralize(result.output));
      if (result.timedOut) io.stderr.write(`corral: still running after ${timeoutMs} ms (it keeps running; interrupt or wait for it)\n`);
    }
    if (result.timedOut) return EXIT.timeout;
    return result.exitCode ?? EXIT.failure;
  },
});
