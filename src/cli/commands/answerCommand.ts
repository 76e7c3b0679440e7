// `corral answer <id> <choice…>`: answers the dialog an agent session shows (POST …/answer) by option number or text.

import { EXIT, UsageError } from '../cliCommand.js';
import { client, clientCommand, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral answer <id> <choice…> [--json]

Answers the dialog on the session's screen (trust folder, API key, permission, …): the choice is the option's
number (1) or its text ("Yes, I trust this folder", or the one option it starts).`;

export const answerCommand = clientCommand({
  name: 'answer',
  summary: "answer an agent session's dialog by option number or text",
  usage: USAGE,
  options: {},
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const choice = positionals.slice(1).join(' ').trim();
    if (choice === '') throw new UsageError(`a choice is required\n${USAGE}`);
    const reply = await client(values, io).sessions.answer(id, { choice });
    if (values.json) writeJson(io, reply);
    else io.stdout.write(`${reply.dialog}: ${reply.choice} → ${reply.state}\n`);
    return EXIT.ok;
  },
});
