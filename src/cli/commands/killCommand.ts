// `corral kill <id> [--force]`: ends a session (DELETE /api/v1/sessions/{id}) and prints how it ended.
// --force skips the polite steps and grace periods (SIGKILL at once); the daemon still sweeps the whole tree.

import { EXIT } from '../cliCommand.js';
import { describeEnding } from '../output/sessionFormat.js';
import { client, clientCommand, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral kill <id> [--force] [--purge] [--json]

Ends the session and its whole process tree: polite exit, SIGINT, SIGTERM, SIGKILL (--force: SIGKILL at once).
Prints how it ended; ending a session that already ended just reports its ending.
  --purge  also remove the session: its record, command history, events and output on disk
           (corral prune --older-than 7d removes every ended session older than that)`;

export const killCommand = clientCommand({
  name: 'kill',
  summary: 'end a session and its process tree (--force: SIGKILL at once, --purge: also remove it)',
  usage: USAGE,
  options: { force: { type: 'boolean', default: false }, purge: { type: 'boolean', default: false } },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const api = client(values, io);
    const ended = values.purge ? await api.sessions.purge(id, { force: values.force }) : await api.sessions.terminate(id, { force: values.force });
    if (values.json) writeJson(io, ended);
    else io.stdout.write(describeEnding(ended) + (values.purge ? '; removed' : '') + '\n');
    return EXIT.ok;
  },
});
