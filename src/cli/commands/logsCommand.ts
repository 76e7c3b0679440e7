// `corral logs <id>`: prints a session's output from a cursor (--since), and with -f keeps polling the cursor
// until the session ends, printing only new bytes. Escapes are neutralized unless --raw (PRODUCT §3).

import { setTimeout as sleep } from 'node:timers/promises';
import type { OutputRead, SessionInfo } from '../../protocol/sessionTypes.js';
import { EXIT, UsageError, type CliIO } from '../cliCommand.js';
import { Neutralizer } from '../output/neutralize.js';
import { client, clientCommand, integerOption, sessionIdArg, sessionPath, writeJson } from './commandKit.js';

const USAGE = `Usage: corral logs <id> [--since OFFSET] [--text] [-f|--follow] [--raw] [--stream stdout|stderr] [--json]

Prints the session's output from byte OFFSET (default 0). Control characters are shown as ^[ etc. unless --raw.
  --text     ANSI stripped and carriage returns resolved (the daemon's text view)
  -f         keep printing new output until the session ends
  --stream   one stream of a pipe session
  --json     one document { data, encoding, offset, nextOffset, firstAvailableOffset, gap }`;

/** How often -f asks for new bytes: fast enough to feel live, slow enough to cost the daemon nothing. */
const FOLLOW_POLL_MS = 200;
/** Bytes per read: the daemon's default page (1 MiB), so a long backlog arrives in few round trips. */
const PAGE_BYTES = 1024 * 1024;

type Sink = (read: OutputRead) => void;

/** Prints (or collects) reads as they arrive; `finish` flushes a held-back CR or a split UTF-8 sequence. */
function makeSink(io: CliIO, mode: { raw: boolean; text: boolean; json: boolean }): { sink: Sink; finish: () => void; collected: () => { data: string; encoding: 'utf8' | 'base64' } } {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const neutralizer = new Neutralizer();
  const chunks: Buffer[] = [];
  let textOut = '';
  const decode = (read: OutputRead): { bytes: Buffer | null; text: string | null } =>
    read.encoding === 'base64' ? { bytes: Buffer.from(read.data, 'base64'), text: null } : { bytes: null, text: read.data };
  const sink: Sink = (read) => {
    if (read.gap > 0 && !mode.json) io.stderr.write(`corral: ${read.gap} bytes were evicted before offset ${read.offset}\n`);
    const { bytes, text } = decode(read);
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
  summary: 'print session output (--since OFFSET, --text, -f to follow, --raw for unfiltered bytes)',
  usage: USAGE,
  options: {
    since: { type: 'string' },
    text: { type: 'boolean', default: false },
    follow: { type: 'boolean', short: 'f', default: false },
    raw: { type: 'boolean', default: false },
    stream: { type: 'string' },
  },
  run: async ({ values, positionals }, io) => {
    const id = sessionIdArg(positionals, USAGE);
    const since = integerOption(values.since, 'since', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    if (values.stream !== undefined && values.stream !== 'stdout' && values.stream !== 'stderr') {
      throw new UsageError(`--stream: "${values.stream}" must be stdout or stderr`);
    }
    if (values.raw && values.text) throw new UsageError('--raw and --text are different views: pick one');
    const api = client(values, io);
    // Bytes travel as base64 so a page boundary inside a UTF-8 sequence is decoded correctly on this side;
    // the text view is already characters.
    const query = (cursor: number): string => {
      const q = new URLSearchParams({ since: String(cursor), limit: String(PAGE_BYTES) });
      q.set('format', values.text ? 'text' : 'raw');
      q.set('encoding', values.text ? 'utf8' : 'base64');
      if (values.stream !== undefined) q.set('stream', values.stream);
      return sessionPath(id, `/output?${q.toString()}`);
    };
    const { sink, finish, collected } = makeSink(io, { raw: values.raw, text: values.text, json: values.json });
    let cursor = since;
    // What the reads said, for the --json document: where reading started and what is still available.
    const seen = { offset: null as number | null, firstAvailableOffset: 0, gap: 0 };
    /** Reads until caught up with the end of the stream. */
    const drain = async (): Promise<void> => {
      for (;;) {
        const read = await api.get<OutputRead>(query(cursor));
        seen.offset ??= read.offset;
        seen.firstAvailableOffset = read.firstAvailableOffset;
        seen.gap += read.gap;
        if (read.nextOffset > read.offset || read.gap > 0) sink(read);
        const progressed = read.nextOffset > cursor;
        cursor = read.nextOffset;
        // A read that moved the cursor may be followed by more; one that did not means caught up.
        if (!progressed) return;
      }
    };
    await drain();
    if (values.follow) {
      for (;;) {
        const info = await api.get<SessionInfo>(sessionPath(id));
        // No byte is lost at exit (PRODUCT §1.2): once terminated, one last drain has everything.
        const ended = info.state === 'terminated';
        await drain();
        if (ended) break;
        await sleep(FOLLOW_POLL_MS);
      }
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
