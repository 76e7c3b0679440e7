// One authenticated HTTP request to the daemon's REST API, and the mapping of every failure to a CorralClientError
// carrying the catalog's code. Knows no route: the typed APIs (SessionsApi, PresetsApi, Corral) name them.

import type { ErrorBody } from '../protocol/errors.js';
import { CorralClientError } from './CorralClientError.js';
import type { Endpoint } from './endpoint.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** Aborting rejects with the signal's reason (an AbortError), never a CorralClientError. */
  signal?: AbortSignal;
  /** Extra headers (`Last-Event-ID` for the event stream). */
  headers?: Record<string, string>;
}

/** A query string from the defined values only; `?` included, or '' when none is left. */
export function queryString(values: Record<string, string | number | boolean | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) query.set(name, String(value));
  return query.size > 0 ? `?${query.toString()}` : '';
}

export class RestTransport {
  /** `fetch`: another implementation than the global one (a daemon whose TLS certificate Node does not trust: httpsFetch). */
  constructor(
    readonly endpoint: Endpoint,
    private readonly fetch: typeof globalThis.fetch = globalThis.fetch,
  ) {}

  /** The JSON reply of a request, or a CorralClientError with the daemon's code, status and details. */
  async request<T>(method: HttpMethod, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, body, options);
    const text = await response.text();
    if (!response.ok) throw refusal(response.status, text);
    try {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    } catch (error) {
      // Something other than the daemon answered (a proxy's HTML page): say so rather than hand back garbage.
      if (!(error instanceof SyntaxError)) throw error;
      throw new CorralClientError('INTERNAL', `${method} ${path} answered ${response.status} with a body that is not JSON.`, response.status, undefined, { cause: error });
    }
  }

  /** The response itself, once its status says success (streams: the SSE event stream). */
  async open(path: string, options: RequestOptions = {}): Promise<Response> {
    const response = await this.send('GET', path, undefined, options);
    if (!response.ok) throw refusal(response.status, await response.text());
    return response;
  }

  private async send(method: HttpMethod, path: string, body: unknown, options: RequestOptions): Promise<Response> {
    try {
      return await this.fetch(this.endpoint.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.endpoint.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (error) {
      // The caller gave up: that is theirs to handle, not an unreachable daemon.
      if (options.signal?.aborted === true) throw error;
      throw new CorralClientError('DAEMON_UNREACHABLE', `Cannot reach the daemon at ${this.endpoint.url}: ${(error as Error).message}`, null, undefined, {
        cause: error,
      });
    }
  }
}

/** The daemon's `{ error: { code, message, details } }` as a CorralClientError; anything else as INTERNAL. */
export function refusal(status: number, text: string): CorralClientError {
  let error: ErrorBody['error'] | undefined;
  try {
    error = (JSON.parse(text) as Partial<ErrorBody> | null)?.error;
  } catch (parseError) {
    // Not the daemon's JSON (a proxy, an empty body): the status line is all there is to say.
    if (!(parseError instanceof SyntaxError)) throw parseError;
  }
  return new CorralClientError(error?.code ?? 'INTERNAL', error?.message ?? `HTTP ${status}`, status, error?.details);
}
