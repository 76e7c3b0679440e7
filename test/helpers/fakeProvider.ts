// What the fake provider APIs (OpenAI Responses, Gemini) share: an HTTP server on 127.0.0.1 that records every
// request, the scripted turns a test types as its prompt, and SSE streaming that stops when the client goes away.
// It never calls the network and never hangs a request.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The scripted turns, chosen by the prompt's text:
 * `slow <s>: text` streams `echo: text` over <s> seconds; `bash: <cmd>` asks to run a shell command (a tool call that
 * needs approval); `error <status>` answers that HTTP error; anything else is echoed as `echo: <text>`.
 * A tool's result comes back as `tool said: <first line>`. A request with the wrong API key gets the provider's
 * authentication error.
 */
export type Directive =
  | { kind: 'echo'; text: string }
  | { kind: 'slow'; seconds: number; text: string }
  | { kind: 'bash'; command: string }
  | { kind: 'tool_result'; firstLine: string }
  | { kind: 'error'; status: number };

export function chooseDirective(text: string, toolResult: string | undefined, canCallTools: boolean): Directive {
  if (toolResult !== undefined) return { kind: 'tool_result', firstLine: toolResult.split('\n').find((l) => l.trim() !== '' && !/^\s*<\/?[a-z_]+>\s*$/.test(l))?.trim() ?? '' };
  const slow = /^slow\s+(\d+(?:\.\d+)?)\s*:\s*([\s\S]*)$/i.exec(text);
  if (slow !== null) return { kind: 'slow', seconds: Number(slow[1]), text: (slow[2] ?? '').trim() };
  const bash = /^bash\s*:\s*([\s\S]+)$/i.exec(text);
  // Side requests (titles, routing) carry no tools: they get plain text, never a tool call.
  if (bash !== null && canCallTools) return { kind: 'bash', command: (bash[1] ?? '').trim() };
  const error = /^error\s+(\d{3})\b/i.exec(text);
  if (error !== null) return { kind: 'error', status: Number(error[1]) };
  return { kind: 'echo', text };
}

export function replyText(directive: Directive): string {
  switch (directive.kind) {
    case 'echo':
    case 'slow':
      return `echo: ${directive.text}`;
    case 'tool_result':
      return `tool said: ${directive.firstLine}`;
    case 'bash':
    case 'error':
      return '';
  }
}

/** Pieces per second of a `slow` reply: often enough for a spinner to show progress. */
const SLOW_PIECES_PER_SECOND = 4;

/** The reply text in pieces with the delay before each (one piece, no delay, unless `slow`). */
export function textPieces(directive: Directive): { delayMs: number; text: string }[] {
  const text = replyText(directive);
  if (directive.kind !== 'slow') return [{ delayMs: 0, text }];
  const pieces = Math.max(1, Math.round(directive.seconds * SLOW_PIECES_PER_SECOND));
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / pieces));
  const out: { delayMs: number; text: string }[] = [];
  for (let i = 0; i < pieces; i++) out.push({ delayMs: (directive.seconds * 1000) / pieces, text: chars.slice(i * size, (i + 1) * size).join('') });
  return out;
}

/** One HTTP request a fake received, in arrival order. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  /** The user text the fake read from it (the typed prompt), if any. */
  readonly userText: string | undefined;
  /** What the fake answered: a directive kind, `auth`, or a route name. */
  readonly reply: string;
  /** performance.now() at arrival. */
  readonly at: number;
}

export interface FakeServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A route answers one request; `stream` writes SSE chunks until done or the client leaves. */
export interface FakeContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: unknown;
  record(userText: string | undefined, reply: string): void;
  sendJson(status: number, value: unknown): void;
  stream(chunks: readonly { delayMs: number; data: string }[]): Promise<void>;
}

// CLIs send their whole system prompt and tool schemas with each request; 32 MB bounds a runaway client.
// CLIs send their whole system prompt and tool schemas (a few hundred KB) with each request; 32 MB leaves room for
// long conversations while still bounding a runaway client.
const MAX_BODY_BYTES = 32 * 1024 * 1024;
// Keeps `requests` bounded if a CLI retries in a loop (Gemini's retry can send ~100 requests/s).
const MAX_RECORDED_REQUESTS = 10_000;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A request's body, refused past MAX_BODY_BYTES (a runaway client must not fill the test's memory). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (error) {
    // Expected for non-JSON bodies: record them as absent rather than failing the request.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Starts a fake on 127.0.0.1 (ephemeral port) whose requests all go to `route`. */
export async function startFakeServer(route: (ctx: FakeContext) => Promise<void>): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const streams = new Set<AbortController>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const at = performance.now();
    const body = parseJson(await readBody(req));
    const ctx: FakeContext = {
      req,
      res,
      path: (req.url ?? '/').split('?')[0] ?? '/',
      body,
      record(userText, reply) {
        if (requests.length >= MAX_RECORDED_REQUESTS) requests.shift();
        requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, userText, reply, at });
      },
      sendJson(status, value) {
        const text = JSON.stringify(value);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      },
      async stream(chunks) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        const abort = new AbortController();
        streams.add(abort);
        // The CLI drops the connection when the user interrupts: stop writing then.
        res.on('close', () => abort.abort());
        try {
          for (const chunk of chunks) {
            if (chunk.delayMs > 0) await delay(chunk.delayMs, undefined, { signal: abort.signal });
            if (res.destroyed) return;
            res.write(chunk.data);
          }
          res.end();
        } catch (error) {
          // AbortError: the client went away or the fake is closing; anything else is a bug.
          if (!(error instanceof Error && error.name === 'AbortError')) throw error;
        } finally {
          streams.delete(abort);
        }
      },
    };
    await route(ctx);
  };

  const listening = await listenFake(handle, streams, (res, error) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: String(error) } }));
  });
  return { ...listening, requests };
}

/**
 * A fake API's server on a free 127.0.0.1 port. A request whose handler throws (an oversized or aborted body) gets
 * `answerFailure` while its socket is open; `close` aborts the replies still streaming (`streams`) and every connection.
 */
export async function listenFake(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  streams: ReadonlySet<AbortController>,
  answerFailure: (res: ServerResponse, error: unknown) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) answerFailure(res, error);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const abort of streams) abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
