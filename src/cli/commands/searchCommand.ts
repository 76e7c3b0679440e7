// `corral search <id> <regex>`: finds a regex in a session's kept output (memory and disk), printing the byte
// offset and line of each match. Exit status 0 with matches, 1 without (like grep).

import type { OutputStreamName } from '../../protocol/apiReplies.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, integerOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral search <id> <regex> [-i] [--since OFFSET] [--limit N] [--stream stdout|stderr] [--json]

Prints "<offset>: <line>" for each match in the session's output (memory and disk journal).
Exit status 0 when something matched, 1 when nothing did.`;

export const searchCommand = clientCommand({
  name: 'search',
  summary: "search a session's output for a regex (byte offsets and lines)",
  usage: USAGE,
  options: {
    'ignore-case': { type: 'boolean', short: 'i', default: false },
    since: { type: 'string' },
    limit: { type: 'string' },
    stream: { type: 'string' },
  },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const pattern = positionals[1];
    if (pattern === undefined || positionals.length > 2) throw new UsageError(`give one regex\n${USAGE}`);
    const result = await client(values, io).sessions.search(id, {
      pattern,
      ignoreCase: values['ignore-case'],
      since: integerOption(values.since, 'since', 0, Number.MAX_SAFE_INTEGER),
      limit: integerOption(values.limit, 'limit', 1, 1000),
      // Passed as typed: the daemon names the streams it accepts.
      stream: values.stream as OutputStreamName | undefined,
    });
    if (values.json) writeJson(io, result);
    else {
      for (const m of result.matches) io.stdout.write(`${m.offset}: ${neutralize(m.line)}\n`);
      if (result.truncated) io.stderr.write(`corral: more matches may follow; continue with --since ${result.nextOffset}\n`);
    }
    return result.matches.length > 0 ? EXIT.ok : EXIT.failure;
  },
});
