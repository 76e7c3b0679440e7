// `corral history <id>`: the command history of a session (GET …/commands), oldest first.

import { EXIT } from '../cliCommand.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, integerOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral history <id> [--limit N] [--after SEQ] [--json]

Commands run in the session (exec, prompts): seq, exit code, duration, cwd, text.`;

export const historyCommand = clientCommand({
  name: 'history',
  summary: "a session's command history (text, exit code, duration, cwd, output offsets)",
  usage: USAGE,
  options: { limit: { type: 'string' }, after: { type: 'string' } },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const limit = integerOption(values.limit, 'limit', 1, 1000);
    const after = integerOption(values.after, 'after', 0, Number.MAX_SAFE_INTEGER);
    const reply = await client(values, io).sessions.commands(id, { limit, after });
    if (values.json) {
      writeJson(io, reply);
      return EXIT.ok;
    }
    for (const c of reply.commands) {
      const status = c.endedAt === null ? 'running' : c.timedOut && c.exitCode === null ? 'timeout' : `exit ${c.exitCode ?? '?'}`;
      const duration = c.durationMs === null ? '' : ` ${c.durationMs}ms`;
      io.stdout.write(`${c.seq}\t${status}${duration}\t${neutralize(c.cwd ?? '')}\t${neutralize(c.text.replace(/\n/g, '⏎'))}\n`);
    }
    return EXIT.ok;
  },
});
