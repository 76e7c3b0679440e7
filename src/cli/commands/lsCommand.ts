// `corral ls`: the session table (live sessions; --all adds ended ones), or { sessions } with --json.
// Reads only; pages through the daemon's cursor up to --limit rows.

import { SESSION_STATES, type SessionInfo, type SessionState } from '../../protocol/sessionTypes.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { formatTable } from '../output/table.js';
import { SESSION_TABLE_HEADER, sessionRow } from '../output/sessionFormat.js';
import { styler } from '../output/style.js';
import { client, clientCommand, integerOption, writeJson } from './commandKit.js';

const USAGE = `Usage: corral ls [--all] [--state STATE] [--task ID] [--profile NAME] [--limit N] [--json]

Lists live sessions, newest first; --all includes ended ones.`;

/** A screenful-and-more of rows by default; a script wanting everything passes a larger --limit. */
const DEFAULT_LIMIT = 100;
/** The most rows one listing may ask for (and the daemon's page size cap). */
const MAX_LIMIT = 100_000;
const PAGE_SIZE = 1000;

function isState(value: string): value is SessionState {
  return (SESSION_STATES as readonly string[]).includes(value);
}

export const lsCommand = clientCommand({
  name: 'ls',
  summary: 'list sessions (--all, --state, --task, --profile)',
  usage: USAGE,
  options: {
    all: { type: 'boolean', short: 'a', default: false },
    state: { type: 'string' },
    task: { type: 'string' },
    profile: { type: 'string' },
    limit: { type: 'string' },
  },
  run: async ({ values, positionals }, io) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
    const state = values.state;
    if (state !== undefined && !isState(state)) {
      throw new UsageError(`--state: "${state}" is not one of ${SESSION_STATES.join(', ')}`);
    }
    const limit = integerOption(values.limit, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    // Asking for an ended state implies ended sessions, whatever --all says.
    const live = values.all || state === 'terminated' ? undefined : true;
    const api = client(values, io);
    const sessions: SessionInfo[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.sessions.list({
        state,
        taskId: values.task,
        profile: values.profile,
        live,
        limit: Math.min(PAGE_SIZE, limit - sessions.length),
        cursor: cursor ?? undefined,
      });
      sessions.push(...page.sessions);
      cursor = page.sessions.length === 0 ? null : page.nextCursor;
    } while (cursor !== null && sessions.length < limit);
    if (values.json) {
      writeJson(io, { sessions, nextCursor: cursor });
      return EXIT.ok;
    }
    const style = styler(io.stdout, io.env);
    const now = Date.now();
    if (sessions.length === 0) io.stderr.write(values.all ? 'no sessions\n' : 'no live sessions (--all shows ended ones)\n');
    else io.stdout.write(formatTable(SESSION_TABLE_HEADER, sessions.map((s) => sessionRow(s, style, now))));
    if (cursor !== null) io.stderr.write(`… more sessions; raise --limit (now ${limit}) to see them\n`);
    return EXIT.ok;
  },
});
