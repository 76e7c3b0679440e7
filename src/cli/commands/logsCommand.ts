// `corral logs <id>`: prints a session's output from a cursor (--since), and with -f keeps polling the cursor
// until the session ends, printing only new output. A person reads the text view (escape sequences, shell-integration
// marks and carriage-return redraws resolved, what is left of control characters made visible); --raw prints the
// bytes as the program wrote them (PRODUCT §3).

import type { OutputChunk } from '../../client/outputStream.js';
import { EXIT, UsageError, type CliIO } from '../cliCommand.js';
import { Neutralizer } from '../output/neutralize.js';
import { client, clientCommand, integerOption, sessionArg, writeJson } from './commandKit.js';

const USAGE = `Usage: corral logs <id> [--since OFFSET] [-f|--follow] [--raw] [--stream stdout|stderr] [--json]

Prints the session's output from byte OFFSET (default 0) as text: escape sequences and shell-integration marks
stripped, carriage returns resolved (the daemon's text view), other control characters shown as ^X.
  --raw      the bytes as the program wrote them, escapes and marks included (was the default before)
  -f         keep printing new output until the session ends
  --stream   one stream of a pipe session
  --json     one document { data, encoding, offset, nextOffset, firstAvailableOffset, gap }`;

type Sink = (chunk: OutputChunk<Uint8Array | string>) => void;

/** Prints (or collects) pages as they arrive; `finish` flushes a held-back CR or a split UTF-8 sequence. */
function makeSink(io: CliIO, mode: { raw: boolean; text: boolean; json: boolean }): { sink: Sink; finish: () => void; collected: () => { data: string; encoding: 'utf8' | 'base64' } } {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const neutralizer = new Neutralizer();
  const chunks: Buffer[] = [];
  let textOut = '';
  const sink: Sink = (chunk) => {
    if (chunk.gap > 0 && !mode.json) io.stderr.write(`corral: ${chunk.gap} bytes were evicted before offset ${chunk.offset}\n`);
    const bytes = typeof chunk.data === 'string' ? null : Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
    const text = typeof chunk.data === 'string' ? chunk.data : null;
    if (mode.json) {
      if (bytes !== null) chunks.push(bytes);
      else textOut += text ?? '';
      return;
    }
    if (mode.raw) {
      io.stdout.write(bytes ?? Buffer.from(text ?? '', 'utf8'));
      return;
    }
    const decoded = bytes !== null ? decoder.decode(bytes, { stream: true }) : (text ?? '');
    const safe = neutralizer.push(decoded);
    if (safe !== '') io.stdout.write(safe);
  };
  return {
    sink,
    finish() {
      if (mode.json || mode.raw) return;
      const rest = neutralizer.push(decoder.decode()) + neutralizer.end();
      if (rest !== '') io.stdout.write(rest);
    },
    collected() {
      if (mode.raw) return { data: Buffer.concat(chunks).toString('base64'), encoding: 'base64' };
      return { data: textOut + Buffer.concat(chunks).toString('utf8'), encoding: 'utf8' };
    },
  };
}

export const logsCommand = clientCommand({
  name: 'logs',
  summary: 'print session output as text (--since OFFSET, -f to follow, --raw for the bytes as written)',
  usage: USAGE,
  options: {
    since: { type: 'string' },
    text: { type: 'boolean', default: false },
    follow: { type: 'boolean', short: 'f', default: false },
    raw: { type: 'boolean', default: false },
    stream: { type: 'string' },
  },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    const since = integerOption(values.since, 'since', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    if (values.stream !== undefined && values.stream !== 'stdout' && values.stream !== 'stderr') {
      throw new UsageError(`--stream: "${values.stream}" must be stdout or stderr`);
    }
    // --text is the default now; it stays accepted for scripts written when it was not.
    if (values.raw && values.text) throw new UsageError('--raw and --text are different views: pick one');
    const api = client(values, io);
    const { sink, finish, collected } = makeSink(io, { raw: values.raw, text: !values.raw, json: values.json });
    let cursor = since;
    // What the reads said, for the --json document: where reading started and what is still available.
    const seen = { offset: null as number | null, firstAvailableOffset: 0, gap: 0 };
    const pages = api.sessions.output(id, {
      since,
      format: values.raw ? 'raw' : 'text',
      stream: values.stream,
      follow: values.follow,
    });
    for await (const page of pages) {
      seen.offset ??= page.offset;
      seen.firstAvailableOffset = page.firstAvailableOffset;
      seen.gap += page.gap;
      if (page.nextOffset > page.offset || page.gap > 0) sink(page);
      cursor = page.nextOffset;
    }
    finish();
    if (values.json) {
      writeJson(io, {
        ...collected(),
        offset: seen.offset ?? since,
        nextOffset: cursor,
        firstAvailableOffset: seen.firstAvailableOffset,
        gap: seen.gap,
      });
    }
    return EXIT.ok;
  },
});
