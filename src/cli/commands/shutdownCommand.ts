// `corral shutdown [--end-sessions]`: stops the daemon (POST /api/v1/shutdown) and waits until it is gone. With
// --end-sessions every session ends first by the escalation; without, they keep running under their holders.

import { EXIT } from '../cliCommand.js';
import { client, clientCommand, writeJson } from './commandKit.js';

const USAGE = `Usage: corral shutdown [--end-sessions] [--json]

Stops the daemon and exits 0 once it is gone.
  --end-sessions   first end every session (polite exit, SIGINT, SIGTERM, SIGKILL, whole-tree sweep)
Without it, sessions keep running under their holders and the next \`corral serve\` on the same data dir
reattaches them (the same as SIGTERM to the daemon).`;

export const shutdownCommand = clientCommand({
  name: 'shutdown',
  summary: 'stop the daemon (--end-sessions: end every session first; else they keep running)',
  usage: USAGE,
  options: { 'end-sessions': { type: 'boolean', default: false } },
  run: async ({ values }, io) => {
    const reply = await client(values, io).shutdown({ endSessions: values['end-sessions'] });
    if (values.json) writeJson(io, reply);
    else if (values['end-sessions']) io.stdout.write(`daemon stopped; ${reply.endedSessions} session(s) ended\n`);
    else io.stdout.write(`daemon stopped; ${reply.keptSessions} session(s) keep running for the next start\n`);
    return EXIT.ok;
  },
});
