// `corral lines <id>`: the line view of a session's output, filtered on the server by --include/--exclude regexes.

import { EXIT } from '../cliCommand.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, integerOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral lines <id> [--include REGEX] [--exclude REGEX] [-i] [--since OFFSET] [--limit N] [--json]

Prints the session's output as text lines, keeping only lines matching --include and dropping lines
matching --exclude (both regexes, applied by the daemon). Continue with --since <nextOffset> (--json shows it).`;

export const linesCommand = clientCommand({
  name: 'lines',
  summary: "a session's output as lines, filtered by --include/--exclude regexes",
  usage: USAGE,
  options: {
    include: { type: 'string' },
    exclude: { type: 'string' },
    'ignore-case': { type: 'boolean', short: 'i', default: false },
    since: { type: 'string' },
    limit: { type: 'string' },
  },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const result = await client(values, io).sessions.lines(id, {
      include: values.include,
      exclude: values.exclude,
      ignoreCase: values['ignore-case'],
      since: integerOption(values.since, 'since', 0, Number.MAX_SAFE_INTEGER),
      limit: integerOption(values.limit, 'limit', 1, 10_000),
    });
    if (values.json) writeJson(io, result);
    else for (const line of result.lines) io.stdout.write(neutralize(line.text) + '\n');
    return EXIT.ok;
  },
});
