// fetch over node:https with TLS options of the caller's own: the global fetch takes no CA, so a daemon serving TLS
// under a private CA (\`corral serve --tls-cert\`) is otherwise reachable only by starting Node with NODE_EXTRA_CA_CERTS.
// Enough of fetch for the typed client and the MCP SDK's HTTP transport: method, headers, a string or byte body, an
// AbortSignal, and a streamed Response (event streams read as they come).

import { request, type RequestOptions } from 'node:https';
import { Readable } from 'node:stream';

export interface HttpsFetchOptions {
  /** CA certificates (PEM) the daemon's certificate is checked against. */
  ca?: string | Buffer | (string | Buffer)[];
  /**
   * False skips the certificate check. Only for a connection whose other end is known otherwise: a daemon calling its
   * own port on loopback.
   */
  rejectUnauthorized?: boolean;
}

export function httpsFetch(options: HttpsFetchOptions = {}): typeof globalThis.fetch {
  const tls: RequestOptions = { ...(options.ca === undefined ? {} : { ca: options.ca }), ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) };
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = input instanceof Request ? input.url : String(input);
      const headers: Record<string, string> = {};
      new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((value, name) => {
        headers[name] = value;
      });
      const outgoing = request(url, { ...tls, method: init?.method ?? 'GET', headers, ...(init?.signal ? { signal: init.signal } : {}) }, (response) => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const status = response.statusCode ?? 502;
        const empty = status === 204 || status === 304 || init?.method === 'HEAD';
        if (empty) response.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), { status, statusText: response.statusMessage ?? '', headers: answer }));
      });
      // As fetch does: a network failure is a TypeError, an abort the signal's reason.
      outgoing.on('error', (error) => reject(init?.signal?.aborted === true ? init.signal.reason : new TypeError('fetch failed', { cause: error })));
      const body = init?.body;
      if (body === undefined || body === null) outgoing.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) outgoing.end(body);
      else reject(new TypeError('httpsFetch sends string or byte bodies only'));
    });
}
