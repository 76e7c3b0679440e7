// `corral template ls|show|set|rm`: session templates (named presets of `corral new`; create with --template).

import { parseArgs } from 'node:util';
import { UsageError, type CliCommand } from '../cliCommand.js';
import { client, COMMON_OPTIONS, guarded, printHelp } from './commandKit.js';
import { presetVerb } from './presetCommands.js';

const USAGE = `Usage: corral template ls | show <name> | set <name> '<json>' | set <name> --file F | rm <name> [--json]

A template is a named preset of a session: {"profile","command","cwd","env","cols","rows","limits","autoAnswer",
"labels","description"}. Create a session from one with POST /api/v1/sessions {"template":"<name>"}.`;

export const templateCommand: CliCommand = {
  name: 'template',
  summary: 'session templates: ls, show, set, rm',
  run: (argv, io) =>
    guarded(argv, io, async () => {
      const { values, positionals } = parseArgs({
        args: argv,
        options: { ...COMMON_OPTIONS, file: { type: 'string', short: 'f' } },
        allowPositionals: true,
        strict: true,
      });
      if (values.help) return printHelp(io, USAGE);
      const [verb, ...rest] = positionals;
      const code = await presetVerb(client(values, io), io, 'templates', verb, rest, { json: values.json, file: values.file, usage: USAGE });
      if (code === null) throw new UsageError(`unknown verb "${verb ?? ''}"\n${USAGE}`);
      return code;
    }),
};
