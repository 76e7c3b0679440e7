// `corral send <id> [text] [--key K]…`: writes text, then named keys, to a session (POST …/input);
// --stdin sends standard input instead of (or before) the text. Never interprets the text itself.

import { EXIT, UsageError, type CliIO } from '../cliCommand.js';
import { client, clientCommand, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral send <id> [text] [--key KEY]… [--stdin] [--eof] [--json]

Writes text (and/or standard input with --stdin), then the named keys in order, to the session.
Keys: Enter Escape Tab Backspace Delete Up Down Left Right Home End PageUp PageDown F1…F12 C-a…C-z M-<char>
  --eof   close the session's stdin afterwards (pipe sessions)`;

/** Standard input read for --stdin; past this a file belongs in the session's cwd, not in input writes. */
const MAX_STDIN_BYTES = 64 * 1024 * 1024;

async function readStdin(io: CliIO): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError(`--stdin: more than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const sendCommand = clientCommand({
  name: 'send',
  summary: 'send text and named keys to a session (--key Enter, --stdin)',
  usage: USAGE,
  options: {
    key: { type: 'string', short: 'k', multiple: true, default: [] },
    stdin: { type: 'boolean', default: false },
    eof: { type: 'boolean', default: false },
  },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    if (positionals.length > 2) throw new UsageError(`give the text as one argument (quote it)\n${USAGE}`);
    const text = (values.stdin ? await readStdin(io) : '') + (positionals[1] ?? '');
    const keys = values.key;
    if (text === '' && keys.length === 0 && !values.eof) throw new UsageError(`nothing to send: give text, --key, --stdin or --eof\n${USAGE}`);
    // Long text goes in request-sized pieces; the keys and eof follow the last one.
    const reply = await client(values, io).sessions.send(id, text, { keys, eof: values.eof });
    if (values.json) writeJson(io, reply);
    return EXIT.ok;
  },
});
