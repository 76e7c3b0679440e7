// `corral send <id> [text] [--key K]…`: writes text, then named keys, to a session (POST …/input);
// --stdin sends standard input instead of (or before) the text. Never interprets the text itself.

import { EXIT, UsageError, type CliIO } from '../cliCommand.js';
import { client, clientCommand, sessionIdArg, sessionPath, writeJson } from './commandKit.js';

const USAGE = `Usage: corral send <id> [text] [--key KEY]… [--stdin] [--eof] [--json]

Writes text (and/or standard input with --stdin), then the named keys in order, to the session.
Keys: Enter Escape Tab Backspace Delete Up Down Left Right Home End PageUp PageDown F1…F12 C-a…C-z M-<char>
  --eof   close the session's stdin afterwards (pipe sessions)`;

/**
 * One input request carries at most 1 MiB (api.ts MAX_INPUT_BYTES); a UTF-16 code unit is at most 3 UTF-8
 * bytes, so 256 Ki code units always fit.
 */
const CHUNK_CODE_UNITS = 256 * 1024;
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

/** Splits text into request-sized pieces without cutting a surrogate pair in half. */
export function chunkText(text: string, size = CHUNK_CODE_UNITS): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
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
    const id = sessionIdArg(positionals, USAGE);
    if (positionals.length > 2) throw new UsageError(`give the text as one argument (quote it)\n${USAGE}`);
    const text = (values.stdin ? await readStdin(io) : '') + (positionals[1] ?? '');
    const keys = values.key;
    if (text === '' && keys.length === 0 && !values.eof) throw new UsageError(`nothing to send: give text, --key, --stdin or --eof\n${USAGE}`);
    const api = client(values, io);
    const path = sessionPath(id, '/input');
    let reply: unknown = null;
    const pieces = chunkText(text);
    for (const [index, data] of pieces.entries()) {
      const lastPiece = index === pieces.length - 1;
      reply = await api.post(path, {
        data,
        ...(lastPiece && keys.length > 0 ? { keys } : {}),
        ...(lastPiece && values.eof ? { eof: true } : {}),
      });
    }
    if (pieces.length === 0) reply = await api.post(path, { ...(keys.length > 0 ? { keys } : {}), ...(values.eof ? { eof: true } : {}) });
    if (values.json) writeJson(io, reply);
    return EXIT.ok;
  },
});
