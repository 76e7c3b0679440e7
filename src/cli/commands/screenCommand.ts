// `corral screen <id>`: the rendered terminal as rows of text (GET …/screen), escapes neutralized unless --raw;
// --json prints the snapshot. Trailing blank rows are left out of the human view.

import { EXIT } from '../cliCommand.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, integerOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral screen <id> [--scrollback N] [--raw] [--json]

Prints the rows of the session's rendered terminal (pty sessions).
  --scrollback N  also the last N lines that scrolled off the top`;

/** The daemon's scrollback cap per request (sessionRoutes screenQuery). */
const MAX_SCROLLBACK = 2000;

export const screenCommand = clientCommand({
  name: 'screen',
  summary: 'print the rendered terminal screen of a session',
  usage: USAGE,
  options: { raw: { type: 'boolean', default: false }, scrollback: { type: 'string' } },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const scrollback = integerOption(values.scrollback, 'scrollback', 0, MAX_SCROLLBACK);
    const screen = await client(values, io).sessions.screen(id, { scrollback });
    if (values.json) {
      writeJson(io, screen);
      return EXIT.ok;
    }
    const rows = [...(screen.scrollback ?? []), ...screen.lines].map((line) => line.trimEnd());
    while (rows.length > 0 && rows.at(-1) === '') rows.pop();
    const text = rows.join('\n');
    io.stdout.write((values.raw ? text : neutralize(text)) + (rows.length > 0 ? '\n' : ''));
    return EXIT.ok;
  },
});
