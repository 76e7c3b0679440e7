// The dashboard's REST calls: same-origin fetch with the login cookie and the CSRF header, errors as ApiError.
// Must never put a credential in a URL or in storage; a 401 sends the user to the login page.

import type { ConversationReply, DialogReply, PromptReply } from '../protocol/apiReplies.js';
import type { CommandRecord } from '../protocol/commandHistory.js';
import type { ScreenSnapshot, SearchResult, SessionInfo, StateEvent } from '../protocol/sessionTypes.js';

export const API = '/api/v1';
/** The header the daemon wants (with Origin) on cookie-authenticated writes; a cross-site form cannot send it. */
const CSRF_HEADER = 'x-corral-request';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { [CSRF_HEADER]: '1' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(API + path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown = undefined;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch (error) {
      // A proxy or a crash page instead of our JSON: report it as what it is.
      throw new ApiError(response.status, 'BAD_REPLY', `Unreadable reply (${(error as Error).message})`);
    }
  }
  if (response.status === 401) {
    window.location.assign('/login');
    throw new ApiError(401, 'UNAUTHORIZED', 'Logged out');
  }
  if (!response.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(response.status, err?.code ?? 'HTTP_' + response.status, err?.message ?? `HTTP ${response.status}`);
  }
  return json as T;
}

export interface ProfileEntry {
  name: string;
  description: string;
  kind: 'pty' | 'pipe';
  hasCommand: boolean;
  /** An agent CLI (absent from older daemons: then none is). */
  agent?: boolean;
}

export interface TemplateEntry {
  name: string;
  body: unknown;
}

export interface Catalog {
  profiles: ProfileEntry[];
  templates: TemplateEntry[];
}

export const sessionsApi = {
  list: () => api<{ sessions: SessionInfo[] }>('GET', '/sessions?limit=500'),
  get: (id: string) => api<SessionInfo>('GET', `/sessions/${encodeURIComponent(id)}`),
  create: (body: Record<string, unknown>) => api<SessionInfo>('POST', '/sessions', body),
  rename: (id: string, name: string | null) => api<SessionInfo>('PATCH', `/sessions/${encodeURIComponent(id)}`, { name }),
  kill: (id: string) => api<SessionInfo>('DELETE', `/sessions/${encodeURIComponent(id)}`),
  /** Removes an ended session for good: its record, history, events and output (DELETE …?purge=true). */
  purge: (id: string) => api<SessionInfo>('DELETE', `/sessions/${encodeURIComponent(id)}?purge=true`),
  interrupt: (id: string) => api<unknown>('POST', `/sessions/${encodeURIComponent(id)}/interrupt`, {}),
  input: (id: string, body: { data?: string; keys?: string[] }) => api<unknown>('POST', `/sessions/${encodeURIComponent(id)}/input`, body),
  events: (id: string) => api<{ events: StateEvent[] }>('GET', `/sessions/${encodeURIComponent(id)}/events?limit=1000`),
  commands: (id: string) => api<{ commands: CommandRecord[] }>('GET', `/sessions/${encodeURIComponent(id)}/commands?limit=1000`),
  screen: (id: string) => api<ScreenSnapshot>('GET', `/sessions/${encodeURIComponent(id)}/screen`),
  catalog: () => api<Catalog>('GET', '/dashboard/catalog'),
  /** Matches in all kept output (memory and disk), oldest first. */
  search: (id: string, pattern: string, limit: number) =>
    api<SearchResult>('GET', `/sessions/${encodeURIComponent(id)}/search?${new URLSearchParams({ pattern, ignoreCase: 'true', limit: String(limit) })}`),
  answer: (id: string, choice: number | string) => api<unknown>('POST', `/sessions/${encodeURIComponent(id)}/answer`, { choice }),
  /** What an agent session asks now (the dialog on its screen, read by the daemon with the profile's patterns). */
  dialog: (id: string) => api<DialogReply>('GET', `/sessions/${encodeURIComponent(id)}/dialog`),
  conversation: (id: string) => api<ConversationReply>('GET', `/sessions/${encodeURIComponent(id)}/conversation?limit=200`),
  /** Long: waits for the agent's turn to end (or a question); the view does not wait on it to stay live. */
  prompt: (id: string, text: string) => api<PromptReply>('POST', `/sessions/${encodeURIComponent(id)}/prompt`, { text }),
  /** The newest output lines (ANSI stripped): a row's "last line". */
  lines: (id: string, since: number) => api<{ lines: { text: string }[] }>('GET', `/sessions/${encodeURIComponent(id)}/lines?since=${since}`),
};
