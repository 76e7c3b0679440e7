// `corral show <id>`: one session's details, or the session object with --json. Reads only.

import { EXIT } from '../cliCommand.js';
import { formatSessionDetails } from '../output/sessionFormat.js';
import { styler } from '../output/style.js';
import { client, clientCommand, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral show <id> [--json]`;

export const showCommand = clientCommand({
  name: 'show',
  summary: "show one session's details",
  usage: USAGE,
  options: {},
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const info = await client(values, io).sessions.get(id);
    if (values.json) writeJson(io, info);
    else io.stdout.write(formatSessionDetails(info, styler(io.stdout, io.env), Date.now()));
    return EXIT.ok;
  },
});
