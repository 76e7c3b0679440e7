// `corral prompt <id> <text…>`: submits a prompt to an agent session (POST …/prompt) and prints the reply.
// Exit 0 when the turn ended idle, 4 on timeout, 1 when it ended in an error or a question (the state says which).

import { EXIT, UsageError } from '../cliCommand.js';
import { neutralize } from '../output/neutralize.js';
import { client, clientCommand, durationOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral prompt <id> <text…> [--timeout 10m] [--json]

Submits the text as the agent's prompt, waits for the turn to end (or for a question) and prints the reply.
  --timeout D   how long to wait for the turn (default 10m)
Exit codes: 0 idle, 1 error or waiting for an answer (see \`corral answer\`), 4 timed out.`;

/** Agent turns with tools can run for minutes. */
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

export const promptCommand = clientCommand({
  name: 'prompt',
  summary: 'send a prompt to an agent session and print its reply',
  usage: USAGE,
  options: { timeout: { type: 'string' } },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const text = positionals.slice(1).join(' ');
    if (text.trim() === '') throw new UsageError(`a prompt text is required\n${USAGE}`);
    const timeoutMs = durationOption(values.timeout, 'timeout', DEFAULT_TIMEOUT_MS);
    const reply = await client(values, io).sessions.prompt(id, { text, timeoutMs });
    const code = reply.timedOut ? EXIT.timeout : reply.state === 'idle' ? EXIT.ok : EXIT.failure;
    if (values.json) {
      writeJson(io, reply);
      return code;
    }
    if (reply.reply !== null) io.stdout.write(neutralize(reply.reply) + '\n');
    if (code !== EXIT.ok) {
      const why = reply.timedOut ? 'timed out' : reply.state;
      io.stderr.write(`corral: turn ${why}${reply.error === null ? '' : `: ${neutralize(reply.error)}`} (${reply.session.stateReason})\n`);
    }
    return code;
  },
});
