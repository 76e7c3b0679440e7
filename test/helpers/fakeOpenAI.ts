// A fake OpenAI Responses API (`POST /v1/responses`, streaming SSE) on 127.0.0.1 for driving the real `codex` CLI
// offline, with the scripted turns of fakeProvider.ts. Codex 0.169 calls only the Responses API (wire_api
// "responses"); the Chat Completions route answers 404 like a server without it. It never calls the network.
import { randomBytes } from 'node:crypto';
import { chooseDirective, isRecord, startFakeServer, textPieces, type Directive, type FakeContext, type FakeServer } from './fakeProvider.js';

export interface FakeOpenAIOptions {
  /** Requests whose bearer token differs get 401 invalid_api_key. Unset: any key passes. */
  apiKey?: string;
}

const ERRORS: Readonly<Record<number, { type: string; code: string | null; message: string }>> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request.' },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded.' },
};

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

function sse(data: Record<string, unknown>): string {
  return `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
}

function textOf(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return content.filter(isRecord).flatMap((part) => (typeof part.text === 'string' ? [part.text] : []));
}

/**
 * The typed prompt (the last user message's text that is not context Codex adds: `<environment_context>`,
 * `<user_instructions>`, AGENTS.md) or, when the last input item is a tool's output, that output.
 */
function lastInput(body: unknown): { text: string | undefined; toolResult: string | undefined } {
  if (!isRecord(body) || !Array.isArray(body.input)) return { text: undefined, toolResult: undefined };
  const items = body.input.filter(isRecord);
  const last = items.at(-1);
  if (last !== undefined && last.type === 'function_call_output') {
    const output = last.output;
    const text = typeof output === 'string' ? output : isRecord(output) && typeof output.content === 'string' ? output.content : JSON.stringify(output);
    // Codex wraps a command's output: `Exit code: 0\nWall time: …\nOutput:\n<text>`; the tool said what follows `Output:`.
    const afterOutput = /(?:^|\n)Output:\n([\s\S]*)$/.exec(text);
    return { text: undefined, toolResult: afterOutput?.[1] ?? text };
  }
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i];
    if (item === undefined || item.role !== 'user') continue;
    const texts = textOf(item.content).filter((t) => !t.trimStart().startsWith('<') && !t.startsWith('# AGENTS.md'));
    if (texts.length > 0) return { text: texts.at(-1)?.trim(), toolResult: undefined };
  }
  return { text: undefined, toolResult: undefined };
}

function toolNames(body: unknown): string[] {
  if (!isRecord(body) || !Array.isArray(body.tools)) return [];
  return body.tools.filter(isRecord).flatMap((tool) => (typeof tool.name === 'string' ? [tool.name] : []));
}

/** A shell tool call that asks for escalation, so Codex shows its approval dialog (`-a on-request`). */
function toolCall(body: unknown, command: string): Record<string, unknown> {
  const tools = toolNames(body);
  const justification = 'The test asks to run this command';
  if (tools.includes('exec_command')) {
    return {
      type: 'function_call',
      id: newId('fc'),
      call_id: newId('call'),
      name: 'exec_command',
      arguments: JSON.stringify({ cmd: command, sandbox_permissions: 'require_escalated', justification }),
    };
  }
  return {
    type: 'function_call',
    id: newId('fc'),
    call_id: newId('call'),
    name: 'shell',
    arguments: JSON.stringify({ command: ['bash', '-lc', command], sandbox_permissions: 'require_escalated', justification }),
  };
}

function responseEvents(body: unknown, directive: Directive): { delayMs: number; data: string }[] {
  const responseId = newId('resp');
  const chunks: { delayMs: number; data: string }[] = [];
  const push = (data: Record<string, unknown>, delayMs = 0): void => {
    chunks.push({ delayMs, data: sse(data) });
  };
  push({ type: 'response.created', response: { id: responseId, status: 'in_progress' } });
  if (directive.kind === 'bash') {
    push({ type: 'response.output_item.done', output_index: 0, item: toolCall(body, directive.command) });
  } else {
    const itemId = newId('msg');
    push({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', id: itemId, role: 'assistant', status: 'in_progress', content: [] } });
    let text = '';
    for (const piece of textPieces(directive)) {
      text += piece.text;
      push({ type: 'response.output_text.delta', item_id: itemId, output_index: 0, content_index: 0, delta: piece.text }, piece.delayMs);
    }
    push({
      type: 'response.output_item.done',
      output_index: 0,
      item: { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] },
    });
  }
  push({
    type: 'response.completed',
    response: {
      id: responseId,
      status: 'completed',
      usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 110 },
    },
  });
  return chunks;
}

function sendError(ctx: FakeContext, status: number): void {
  const known = ERRORS[status] ?? { type: 'server_error', code: null, message: `Fake error with status ${status}` };
  ctx.sendJson(status, { error: { ...known, param: null } });
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeServer> {
  return startFakeServer(async (ctx) => {
    const { req, path, body } = ctx;
    if (req.method === 'POST' && /\/responses$/.test(path)) {
      const { text, toolResult } = lastInput(body);
      const auth = req.headers.authorization ?? '';
      if (options.apiKey !== undefined && auth !== `Bearer ${options.apiKey}`) {
        ctx.record(text, 'auth');
        sendError(ctx, 401);
        return;
      }
      const canCallTools = toolNames(body).some((name) => name === 'exec_command' || name === 'shell');
      const directive = chooseDirective(text ?? '', toolResult, canCallTools);
      ctx.record(text, directive.kind);
      if (directive.kind === 'error') {
        sendError(ctx, directive.status);
        return;
      }
      await ctx.stream(responseEvents(body, directive));
      return;
    }
    ctx.record(undefined, 'other');
    if (req.method === 'GET' && /\/models$/.test(path)) {
      ctx.sendJson(200, { object: 'list', data: [], models: [] });
      return;
    }
    sendError(ctx, 404);
  });
}

/**
 * `codex` arguments that make the fake at `baseUrl` its model provider: 0.169+ ignores OPENAI_BASE_URL
 * (docs/agent-clis.md). `noRetries`: errors show at once instead of after Codex's own retries.
 */
export function codexProviderArgs(baseUrl: string, options: { noRetries?: boolean } = {}): string[] {
  return [
    '-c', 'model_provider="fake"',
    '-c', 'model_providers.fake.name="fake"',
    '-c', `model_providers.fake.base_url="${baseUrl}/v1"`,
    '-c', 'model_providers.fake.wire_api="responses"',
    '-c', 'model_providers.fake.env_key="OPENAI_API_KEY"',
    '-c', 'model_providers.fake.supports_websockets=false',
    ...(options.noRetries === true ? ['-c', 'model_providers.fake.request_max_retries=0', '-c', 'model_providers.fake.stream_max_retries=0'] : []),
    '-c', 'model="gpt-5.5"',
  ];
}
