// A fake Anthropic Messages API on 127.0.0.1 for driving the real `claude` CLI offline in tests.
// It answers every route at once (never hangs) and records each request; it never calls the network.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { listenFake, parseJson, readBody } from './fakeProvider.js';

/** One HTTP request the fake received, in arrival order. */
export interface RecordedRequest {
  readonly method: string;
  /** Path with query string, e.g. `/v1/messages?beta=true`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, or `undefined` when the body was empty or not JSON. */
  readonly body: unknown;
  /** Text of the last user message (system reminders removed), for `/v1/messages`. */
  readonly lastUserText: string | undefined;
  /** What the fake decided to answer. */
  readonly reply: ReplyKind;
  /** `performance.now()` at arrival. */
  readonly at: number;
}

export type ReplyKind = 'echo' | 'slow' | 'tool_use' | 'tool_result' | 'error' | 'count_tokens' | 'other';

export interface FakeAnthropic {
  /** Base URL for `ANTHROPIC_BASE_URL`, e.g. `http://127.0.0.1:43211`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

// Pieces per second for `slow <N>:` replies: frequent enough for the spinner to show progress.
const SLOW_PIECES_PER_SECOND = 4;
// Keeps `requests` bounded if a test loops; no test sends anywhere near this many.
const MAX_RECORDED_REQUESTS = 10_000;

const ERROR_TYPES: Readonly<Record<number, { type: string; message: string }>> = {
  400: { type: 'invalid_request_error', message: 'Invalid request' },
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  403: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
  404: { type: 'not_found_error', message: 'The requested resource could not be found.' },
  413: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
  429: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
};

type Directive =
  | { kind: 'echo'; text: string }
  | { kind: 'slow'; seconds: number; text: string }
  | { kind: 'bash'; command: string }
  | { kind: 'tool_result'; firstLine: string }
  | { kind: 'error'; status: number };

type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** Text of a tool_result block's content (a string or a list of text blocks). */
function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isRecord)
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('\n');
}

interface LastUser {
  text: string | undefined;
  toolResult: string | undefined;
}

/** The last user message of a Messages request: its own text (not the CLI's system reminders) or tool result. */
function lastUserMessage(body: unknown): LastUser {
  if (!isRecord(body) || !Array.isArray(body.messages)) return { text: undefined, toolResult: undefined };
  const users = body.messages.filter((m): m is Record<string, unknown> => isRecord(m) && m.role === 'user');
  const last = users.at(-1);
  if (last === undefined) return { text: undefined, toolResult: undefined };
  if (typeof last.content === 'string') return { text: last.content.trim(), toolResult: undefined };
  if (!Array.isArray(last.content)) return { text: undefined, toolResult: undefined };
  let text: string | undefined;
  let toolResult: string | undefined;
  for (const block of last.content) {
    if (!isRecord(block)) continue;
    if (block.type === 'tool_result') toolResult = toolResultText(block.content);
    // The CLI prepends context as `<system-reminder>` text blocks; the typed prompt is the last plain one.
    if (block.type === 'text' && typeof block.text === 'string' && !block.text.trimStart().startsWith('<')) {
      text = block.text.trim();
    }
  }
  return { text, toolResult };
}

function hasTool(body: unknown, name: string): boolean {
  if (!isRecord(body) || !Array.isArray(body.tools)) return false;
  return body.tools.some((tool) => isRecord(tool) && tool.name === name);
}

function chooseDirective(body: unknown, user: LastUser): Directive {
  // After a rejected tool call the CLI sends the tool_result and the user's next prompt in one message:
  // typed text wins, a bare tool_result gets the `tool said:` reply.
  if (user.toolResult !== undefined && (user.text === undefined || user.text === '')) {
    return { kind: 'tool_result', firstLine: user.toolResult.split('\n')[0] ?? '' };
  }
  const text = user.text ?? '';
  const slow = /^slow\s+(\d+(?:\.\d+)?)\s*:\s*([\s\S]*)$/i.exec(text);
  if (slow !== null) return { kind: 'slow', seconds: Number(slow[1]), text: slow[2] ?? '' };
  const bash = /^bash\s*:\s*([\s\S]+)$/i.exec(text);
  // Side requests (titles, summaries) carry no tools: they get plain text, never a tool call.
  if (bash !== null && hasTool(body, 'Bash')) return { kind: 'bash', command: (bash[1] ?? '').trim() };
  const error = /^error\s+(\d{3})\b/i.exec(text);
  if (error !== null) return { kind: 'error', status: Number(error[1]) };
  if (/^overloaded\b/i.test(text)) return { kind: 'error', status: 529 };
  return { kind: 'echo', text };
}

function replyKind(directive: Directive): ReplyKind {
  switch (directive.kind) {
    case 'echo':
      return 'echo';
    case 'slow':
      return 'slow';
    case 'bash':
      return 'tool_use';
    case 'tool_result':
      return 'tool_result';
    case 'error':
      return 'error';
  }
}

function contentFor(directive: Directive): { content: ContentBlock[]; stopReason: string } {
  switch (directive.kind) {
    case 'echo':
    case 'slow':
      return { content: [{ type: 'text', text: `echo: ${directive.text}` }], stopReason: 'end_turn' };
    case 'tool_result':
      return { content: [{ type: 'text', text: `tool said: ${directive.firstLine}` }], stopReason: 'end_turn' };
    case 'bash':
      return {
        content: [
          { type: 'tool_use', id: newId('toolu'), name: 'Bash', input: { command: directive.command, description: 'Run the requested command' } },
        ],
        stopReason: 'tool_use',
      };
    case 'error':
      return { content: [], stopReason: 'end_turn' };
  }
}

function modelOf(body: unknown): string {
  return isRecord(body) && typeof body.model === 'string' ? body.model : 'claude-sonnet-4-5';
}

/** A rough token count: enough for the CLI's context meter, not meant to be accurate. */
function roughTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': newId('req'),
  });
  res.end(body);
}

function sendError(res: ServerResponse, status: number): void {
  const known = ERROR_TYPES[status] ?? { type: 'api_error', message: `Fake error with status ${status}` };
  sendJson(res, status, { type: 'error', error: known, request_id: newId('req') });
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Splits text into about `pieces` chunks on character boundaries. */
function splitText(text: string, pieces: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, pieces)));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out.length > 0 ? out : [''];
}

interface StreamPlan {
  /** Each element is written after waiting `delayMs` from the previous one. */
  readonly chunks: { delayMs: number; data: string }[];
}

function streamPlan(body: unknown, directive: Directive): StreamPlan {
  const { content, stopReason } = contentFor(directive);
  const model = modelOf(body);
  const inputTokens = roughTokens(isRecord(body) ? body.messages : undefined);
  const chunks: { delayMs: number; data: string }[] = [];
  const push = (event: string, data: unknown, delayMs = 0): void => {
    chunks.push({ delayMs, data: sse(event, data) });
  };
  push('message_start', {
    type: 'message_start',
    message: {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
    },
  });
  let outputTokens = 0;
  content.forEach((block, index) => {
    if (block.type === 'text') {
      push('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      push('ping', { type: 'ping' });
      const pieces = directive.kind === 'slow' ? Math.max(1, Math.round(directive.seconds * SLOW_PIECES_PER_SECOND)) : 1;
      const delayMs = directive.kind === 'slow' ? (directive.seconds * 1000) / pieces : 0;
      for (const piece of splitText(block.text, pieces)) {
        push('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }, delayMs);
      }
      outputTokens += roughTokens(block.text);
    } else {
      push('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      push('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
      outputTokens += roughTokens(block.input);
    }
    push('content_block_stop', { type: 'content_block_stop', index });
  });
  push('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  push('message_stop', { type: 'message_stop' });
  return { chunks };
}

function jsonMessage(body: unknown, directive: Directive): unknown {
  const { content, stopReason } = contentFor(directive);
  return {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model: modelOf(body),
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: roughTokens(isRecord(body) ? body.messages : undefined),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: roughTokens(content),
    },
  };
}

/** Starts the fake on 127.0.0.1 with an ephemeral port. */
export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];

  const record = (req: IncomingMessage, body: unknown, lastUserText: string | undefined, reply: ReplyKind): void => {
    if (requests.length >= MAX_RECORDED_REQUESTS) requests.shift();
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, lastUserText, reply, at: performance.now() });
  };

  const streams = new Set<AbortController>();

  const stream = async (res: ServerResponse, plan: StreamPlan): Promise<void> => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': newId('req'),
    });
    const abort = new AbortController();
    streams.add(abort);
    // The CLI drops the connection when the user interrupts: stop writing then.
    res.on('close', () => abort.abort());
    try {
      for (const chunk of plan.chunks) {
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
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const body = parseJson(raw);
    const path = (req.url ?? '/').split('?')[0] ?? '/';

    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      record(req, body, undefined, 'count_tokens');
      sendJson(res, 200, { input_tokens: roughTokens(body) });
      return;
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      const user = lastUserMessage(body);
      const directive = chooseDirective(body, user);
      record(req, body, user.text, replyKind(directive));
      if (directive.kind === 'error') {
        sendError(res, directive.status);
        return;
      }
      if (isRecord(body) && body.stream === true) {
        await stream(res, streamPlan(body, directive));
      } else {
        sendJson(res, 200, jsonMessage(body, directive));
      }
      return;
    }
    record(req, body, undefined, 'other');
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { data: [], has_more: false, first_id: null, last_id: null });
      return;
    }
    sendError(res, 404);
  };

  const listening = await listenFake(handle, streams, (res, error) => sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(error) } }));
  return { ...listening, requests };
}
