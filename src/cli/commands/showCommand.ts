// `corral show <id>`: one session's details, or the session object with --json. Reads only.

import { parseArgs } from 'node:util';
import type { SessionInfo } from '../../common/sessionTypes.js';
import { EXIT, type CliCommand } from '../cliCommand.js';
import { formatSessionDetails } from '../output/sessionFormat.js';
import { styler } from '../output/style.js';
import { client, COMMON_OPTIONS, guarded, printHelp, sessionIdArg, sessionPath, writeJson } from './commandKit.js';

const USAGE = `Usage: corral show <id> [--json]`;

export const showCommand: CliCommand = {
  name: 'show',
  summary: "show one session's details",
  run: (argv, io) =>
    guarded(argv, io, async () => {
      const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS }, allowPositionals: true, strict: true });
      if (values.help) return printHelp(io, USAGE);
      const id = sessionIdArg(positionals, USAGE);
      const info = await client(values, io).get<SessionInfo>(sessionPath(id));
      if (values.json) writeJson(io, info);
      else io.stdout.write(formatSessionDetails(info, styler(io.stdout, io.env), Date.now()));
      return EXIT.ok;
    }),
};
