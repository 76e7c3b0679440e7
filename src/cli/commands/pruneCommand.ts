// `corral prune --older-than 7d`: removes every ended session (record, history, events, output on disk) that ended
// longer ago than the duration. Live sessions are never touched.

import { EXIT, UsageError } from '../cliCommand.js';
import { client, clientCommand, durationOption, writeJson } from './commandKit.js';

const USAGE = `Usage: corral prune --older-than DURATION [--json]

Removes every ended session that ended more than DURATION ago (e.g. 7d, 12h, 30m; 0s: every ended session): its
record, command history, events and output on disk. Live sessions are never touched. One session: corral kill
<id> --purge. The daemon can do this on its own: corral serve --retention-days N.`;

export const pruneCommand = clientCommand({
  name: 'prune',
  summary: 'remove ended sessions older than --older-than DURATION (records, history, output)',
  usage: USAGE,
  options: { 'older-than': { type: 'string' } },
  run: async ({ values, positionals }, io) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
    if (values['older-than'] === undefined) throw new UsageError(`--older-than is required\n${USAGE}`);
    const olderThanMs = durationOption(values['older-than'], 'older-than', 0);
    const result = await client(values, io).sessions.prune(olderThanMs);
    if (values.json) writeJson(io, result);
    else io.stdout.write(`removed ${result.removed} ended session${result.removed === 1 ? '' : 's'}\n`);
    return EXIT.ok;
  },
});
