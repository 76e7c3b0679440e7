// `corral wait <id>`: blocks until a state, an output pattern, or exit (POST …/wait, long-polled in slices);
// exit code 0 matched, 4 timed out, 1 the session ended first. The spinner goes to stderr, only on a TTY.

import { SESSION_STATES, type SessionState } from '../../protocol/sessionTypes.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { formatDuration } from '../output/duration.js';
import { startProgress } from '../output/progress.js';
import { describeExit } from '../output/sessionFormat.js';
import { client, clientCommand, durationOption, integerOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral wait <id> (--state S[,S…] | --pattern RE | --exit) [--timeout 30s] [--since OFFSET] [--screen] [--json]

Waits until the session is in one of the states, its output matches RE, or it exits.
Exit codes: 0 matched, 4 timed out, 1 the session ended without matching.
  --pattern RE     searched in output produced after the wait starts (--since 0: all output)
  --screen         also match RE against the rendered screen
  --timeout D      500ms, 30s, 2m, 1h (default 30s)`;

const DEFAULT_TIMEOUT_MS = 30_000;
/** The daemon's longest single wait (api.ts MAX_WAIT_MS, one hour). */
const MAX_TIMEOUT_MS = 60 * 60 * 1000;

function parseStates(text: string): SessionState[] {
  const states = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const state of states) {
    if (!(SESSION_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state: "${state}" is not one of ${SESSION_STATES.join(', ')}`);
    }
  }
  if (states.length === 0) throw new UsageError('--state: give at least one state');
  return states as SessionState[];
}

export const waitCommand = clientCommand({
  name: 'wait',
  summary: 'wait for a state, an output pattern or exit (--timeout 30s; exit 4 on timeout)',
  usage: USAGE,
  options: {
    state: { type: 'string' },
    pattern: { type: 'string' },
    exit: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    since: { type: 'string' },
    screen: { type: 'boolean', default: false },
  },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const states = values.state === undefined ? undefined : parseStates(values.state);
    if (states === undefined && values.pattern === undefined && !values.exit) {
      throw new UsageError(`give --state, --pattern or --exit\n${USAGE}`);
    }
    if (values.pattern !== undefined) {
      try {
        new RegExp(values.pattern);
      } catch (error) {
        // A SyntaxError here is the user's pattern, not a bug: report it as a usage error.
        if (error instanceof SyntaxError) throw new UsageError(`--pattern: ${error.message}`);
        throw error;
      }
    }
    const timeoutMs = durationOption(values.timeout, 'timeout', DEFAULT_TIMEOUT_MS);
    if (timeoutMs > MAX_TIMEOUT_MS) throw new UsageError(`--timeout: at most ${formatDuration(MAX_TIMEOUT_MS)}`);
    const api = client(values, io);
    let since = integerOption(values.since, 'since', 0, Number.MAX_SAFE_INTEGER);
    if (values.pattern !== undefined && since === undefined) {
      // "Output after the wait starts" means after this command started, however long the spinner runs first.
      since = (await api.sessions.get(id)).output.totalBytes;
    }
    const what = [states?.join(' or '), values.pattern === undefined ? undefined : `/${values.pattern}/`, values.exit ? 'exit' : undefined]
      .filter((s) => s !== undefined)
      .join(' or ');
    const progress = startProgress(io.stderr, `waiting for ${what}`);
    let reply;
    try {
      // The client long-polls in slices up to the whole timeout.
      reply = await api.sessions.wait(id, {
        states,
        pattern: values.pattern,
        since,
        screen: values.screen ? true : undefined,
        exit: values.exit ? true : undefined,
        timeoutMs,
      });
    } finally {
      progress.stop();
    }
    const code = reply.matched ? EXIT.ok : reply.outcome === 'timeout' ? EXIT.timeout : EXIT.failure;
    if (values.json) {
      writeJson(io, reply);
      return code;
    }
    const session = reply.session;
    if (code === EXIT.ok) {
      // Say what matched: the state reached, the pattern seen, or how the session ended.
      const line =
        reply.outcome === 'pattern'
          ? `matched /${values.pattern ?? ''}/ (${session.state})`
          : `${session.state}${session.exit === null ? '' : ` (${describeExit(session.exit)})`}`;
      io.stdout.write(line + '\n');
    } else if (code === EXIT.timeout) {
      io.stderr.write(`corral: timed out after ${formatDuration(timeoutMs)} waiting for ${what}; ${session.id} is ${session.state}\n`);
    } else {
      io.stderr.write(`corral: ${session.id} ended (${describeExit(session.exit)}) before ${what}\n`);
    }
    return code;
  },
});
