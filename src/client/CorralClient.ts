// A small REST client for the daemon (used by the CLI and the stdio MCP server). It finds the daemon the way
// PRODUCT §5 says: CORRAL_URL + CORRAL_TOKEN, else daemon.json and the token file in the data dir (an explicit
// --data-dir wins as a whole: its URL and its token).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_INFO_FILE, defaultDataDir, type DaemonInfo } from '../config/paths.js';
import type { ErrorCode } from '../protocol/errors.js';

export class ClientError extends Error {
  constructor(
    readonly code: ErrorCode | 'DAEMON_UNREACHABLE' | 'NO_DAEMON',
    message: string,
    readonly status: number | null,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

export interface Endpoint {
  url: string;
  token: string;
}

export function resolveEndpoint(options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Endpoint {
  const env = options.env ?? process.env;
  if (options.dataDir === undefined && env.CORRAL_URL !== undefined && env.CORRAL_URL !== '') {
    const token = env.CORRAL_TOKEN ?? readTokenFile(defaultDataDir(env));
    if (token === undefined) throw new ClientError('NO_DAEMON', 'CORRAL_URL is set but CORRAL_TOKEN is not.', null);
    return { url: env.CORRAL_URL.replace(/\/+$/, ''), token };
  }
  const dataDir = options.dataDir ?? defaultDataDir(env);
  const infoPath = join(dataDir, DAEMON_INFO_FILE);
  if (!existsSync(infoPath)) {
    throw new ClientError('NO_DAEMON', `No running daemon found (${infoPath} is missing). Start one with: corral serve`, null);
  }
  const info = JSON.parse(readFileSync(infoPath, 'utf8')) as DaemonInfo;
  // The token comes from where the URL came from: a CORRAL_TOKEN meant for a CORRAL_URL (overridden by
  // --data-dir, or left over without one) belongs to another daemon, whose token this one refuses.
  const token = readTokenFile(dataDir);
  if (token === undefined) throw new ClientError('NO_DAEMON', `No token file in ${dataDir}.`, null);
  return { url: info.url, token };
}

function readTokenFile(dataDir: string): string | undefined {
  const path = join(dataDir, 'token');
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

export class CorralClient {
  constructor(readonly endpoint: Endpoint) {}

  async request<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.endpoint.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.endpoint.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ClientError('DAEMON_UNREACHABLE', `Cannot reach the daemon at ${this.endpoint.url}: ${(error as Error).message}`, null);
    }
    const text = await response.text();
    const json: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok) {
      const err = (json as { error?: { code: ErrorCode; message: string; details?: unknown } } | undefined)?.error;
      throw new ClientError(err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${response.status}`, response.status, err?.details);
    }
    return json as T;
  }

  get<T>(path: string, options?: { signal?: AbortSignal }): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown, options?: { signal?: AbortSignal }): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}
