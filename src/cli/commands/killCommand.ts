// `corral kill <id> [--force]`: ends a session (DELETE /api/v1/sessions/{id}) and prints how it ended.
// --force skips the polite steps and grace periods (SIGKILL at once); the daemon still sweeps the whole tree.

import { EXIT } from '../cliCommand.js';
import { describeEnding } from '../output/sessionFormat.js';
import { client, clientCommand, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral kill <id> [--force] [--json]

Ends the session and its whole process tree: polite exit, SIGINT, SIGTERM, SIGKILL (--force: SIGKILL at once).
Prints how it ended; ending a session that already ended just reports its ending.`;

export const killCommand = clientCommand({
  name: 'kill',
  summary: 'end a session and its process tree (--force: SIGKILL at once); prints how it ended',
  usage: USAGE,
  options: { force: { type: 'boolean', default: false } },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const ended = await client(values, io).sessions.terminate(id, { force: values.force });
    if (values.json) writeJson(io, ended);
    else io.stdout.write(describeEnding(ended) + '\n');
    return EXIT.ok;
  },
});
