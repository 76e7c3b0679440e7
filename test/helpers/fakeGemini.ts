// A fake Gemini API (`POST /v1beta/models/<m>:streamGenerateContent?alt=sse` and `:generateContent`) on 127.0.0.1
// for driving the real `gemini` CLI offline (GOOGLE_GEMINI_BASE_URL), with the scripted turns of fakeProvider.ts.
// Gemini CLI 0.61 first asks a small model to route the prompt (a JSON-schema generateContent) and then streams
// the answer; both are answered here. It never calls the network.
import { chooseDirective, isRecord, startFakeServer, textPieces, type Directive, type FakeContext, type FakeServer } from './fakeProvider.js';

export interface FakeGeminiOptions {
  /** Requests whose `x-goog-api-key` differs get 400 API_KEY_INVALID (what Google answers). Unset: any key passes. */
  apiKey?: string;
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

function sendError(ctx: FakeContext, status: number, message?: string, details?: unknown[]): void {
  ctx.sendJson(status, {
    error: { code: status, message: message ?? `Fake error with status ${status}`, status: STATUS_NAMES[status] ?? 'UNKNOWN', ...(details === undefined ? {} : { details }) },
  });
}

/** The last user turn: its typed text (the last text part) or a function's response. */
function lastUser(body: unknown): { text: string | undefined; toolResult: string | undefined } {
  if (!isRecord(body) || !Array.isArray(body.contents)) return { text: undefined, toolResult: undefined };
  const users = body.contents.filter((c): c is Record<string, unknown> => isRecord(c) && c.role === 'user');
  const parts = (users.at(-1)?.parts ?? []) as unknown[];
  let text: string | undefined;
  for (const part of parts.filter(isRecord)) {
    if (isRecord(part.functionResponse)) {
      const response = part.functionResponse.response;
      const output = isRecord(response) ? (response.output ?? response.llmContent ?? response) : response;
      return { text: undefined, toolResult: typeof output === 'string' ? output : JSON.stringify(output) };
    }
    if (typeof part.text === 'string' && !part.text.trimStart().startsWith('<')) text = part.text.trim();
  }
  return { text, toolResult: undefined };
}

function hasShellTool(body: unknown): boolean {
  if (!isRecord(body) || !Array.isArray(body.tools)) return false;
  return body.tools
    .filter(isRecord)
    .some((tool) => Array.isArray(tool.functionDeclarations) && tool.functionDeclarations.some((d) => isRecord(d) && d.name === 'run_shell_command'));
}

/** A value that fits a JSON schema well enough for the CLI's router (`{ reasoning, model_choice | complexity_score }`). */
function valueFor(schema: unknown): unknown {
  if (!isRecord(schema)) return 'simple';
  const type = typeof schema.type === 'string' ? schema.type.toLowerCase() : '';
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (type === 'object' && isRecord(schema.properties)) {
    return Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, valueFor(value)]));
  }
  if (type === 'array') return [];
  if (type === 'number' || type === 'integer') return typeof schema.minimum === 'number' ? schema.minimum : 1;
  if (type === 'boolean') return false;
  return 'simple';
}

function structuredSchema(body: unknown): unknown {
  if (!isRecord(body) || !isRecord(body.generationConfig)) return undefined;
  return body.generationConfig.responseJsonSchema ?? body.generationConfig.responseSchema;
}

const USAGE = { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 };

function chunk(parts: unknown[], finish: boolean): string {
  const candidate = { content: { role: 'model', parts }, index: 0, ...(finish ? { finishReason: 'STOP' } : {}) };
  return `data: ${JSON.stringify({ candidates: [candidate], ...(finish ? { usageMetadata: USAGE } : {}), modelVersion: 'fake-gemini' })}\r\n\r\n`;
}

function streamChunks(directive: Directive): { delayMs: number; data: string }[] {
  if (directive.kind === 'bash') {
    return [{ delayMs: 0, data: chunk([{ functionCall: { name: 'run_shell_command', args: { command: directive.command, description: 'Run the requested command' } } }], true) }];
  }
  const pieces = textPieces(directive);
  return pieces.map((piece, i) => ({ delayMs: piece.delayMs, data: chunk([{ text: piece.text }], i === pieces.length - 1) }));
}

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeServer> {
  return startFakeServer(async (ctx) => {
    const { req, path, body } = ctx;
    const method = /:(\w+)$/.exec(path)?.[1];
    if (req.method === 'POST' && (method === 'streamGenerateContent' || method === 'generateContent')) {
      const { text, toolResult } = lastUser(body);
      const key = req.headers['x-goog-api-key'] ?? new URL(req.url ?? '/', 'http://x').searchParams.get('key');
      if (options.apiKey !== undefined && key !== options.apiKey) {
        ctx.record(text, 'auth');
        sendError(ctx, 400, 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
        ]);
        return;
      }
      const schema = structuredSchema(body);
      if (method === 'generateContent') {
        // Side requests (the router's complexity check, titles): one JSON answer, never a scripted turn.
        ctx.record(text, schema === undefined ? 'side' : 'router');
        const answer = schema === undefined ? 'ok' : JSON.stringify(valueFor(schema));
        ctx.sendJson(200, { candidates: [{ content: { role: 'model', parts: [{ text: answer }] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE });
        return;
      }
      const directive = chooseDirective(text ?? '', toolResult, hasShellTool(body));
      ctx.record(text, directive.kind);
      if (directive.kind === 'error' && directive.status === 503) {
        // What Google answers when the model is overloaded: the CLI asks whether to keep trying (ProQuotaDialog).
        sendError(ctx, 503, 'The model is overloaded: capacity exceeded.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'MODEL_CAPACITY_EXHAUSTED', domain: 'googleapis.com' },
        ]);
        return;
      }
      if (directive.kind === 'error') {
        sendError(ctx, directive.status, directive.status === 429 ? 'Resource has been exhausted (e.g. check quota).' : 'Internal error encountered.');
        return;
      }
      await ctx.stream(streamChunks(directive));
      return;
    }
    ctx.record(undefined, 'other');
    if (req.method === 'POST' && method === 'countTokens') {
      ctx.sendJson(200, { totalTokens: 100 });
      return;
    }
    if (req.method === 'GET' && /\/models$/.test(path)) {
      ctx.sendJson(200, { models: [] });
      return;
    }
    sendError(ctx, 404, 'Not found');
  });
}
