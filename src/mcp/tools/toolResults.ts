// How a Corral MCP tool answers: a structured result, or any failure as an `isError` result a model can act on.
// Nothing a tool does may throw past `guarded` and crash the transport.

import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export function ok(structured: Record<string, unknown>, text?: string): CallToolResult {
  return { content: [{ type: 'text', text: text ?? JSON.stringify(structured) }], structuredContent: structured };
}

/** Any failure as a result the model can act on: the engine's message already says what to do next. */
export function toolError(error: unknown): CallToolResult {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const text = typeof code === 'string' && /^[A-Z_]+$/.test(code) ? `${message} (${code})` : message;
  return { content: [{ type: 'text', text }], isError: true };
}

/** The stable code a backend error carries (CorralError in the daemon, CorralClientError over REST), if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The session state an error's details name (SESSION_BUSY / INVALID_STATE carry it), or "busy". */
export function stateOf(error: unknown): string {
  const details = (error as { details?: unknown } | null)?.details;
  const state = (details as { state?: unknown } | null | undefined)?.state;
  return typeof state === 'string' ? state : 'busy';
}

export async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    // Every failure becomes a tool result (PRODUCT §5); nothing a tool does may crash the transport.
    return toolError(error);
  }
}
