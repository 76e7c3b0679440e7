// Requests from this node to another node of the fleet: with the cluster token and the caller the front door let in
// (CALLER_HEADER), never the client's own token, cookie or Origin. `json` for the fleet's own calls (lists, creates),
// `proxy` to stream a client's request through unchanged (long-polls, SSE, large reads).

import { Agent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CorralError, type ErrorBody } from '../protocol/errors.js';
import { CALLER_HEADER, CLUSTER_TOKEN_HEADER, callerHeaderOf, type Principal } from '../server/auth.js';

/** Headers of a client's request that travel on to the node (the rest are the front door's business). */
const FORWARDED_REQUEST_HEADERS = ['accept', 'last-event-id', 'user-agent', 'mcp-session-id', 'mcp-protocol-version'];
/** Hop-by-hop headers of the node's answer, which this connection sets for itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);
/** A node that does not accept the connection within this is counted unreachable for the call. */
const CONNECT_TIMEOUT_MS = 3_000;

export interface PeerReply<T> {
  status: number;
  body: T;
}

export class PeerClient {
  /** Kept-alive connections to the other nodes: the front door's overhead is one request, not a handshake each. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  /** The same to nodes that advertise https://, their certificates checked against the fleet's CA (`--cluster-ca-file`). */
  private readonly tlsAgent: HttpsAgent;

  constructor(
    private readonly clusterToken: string,
    ca?: Buffer,
  ) {
    this.tlsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256, ...(ca === undefined ? {} : { ca }) });
  }

  /** The node's JSON answer (any status). NODE_UNREACHABLE when it cannot be reached. */
  json<T>(node: { name: string; url: string }, method: string, path: string, body?: unknown, principal: Principal = { kind: 'owner' }): Promise<PeerReply<T>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const outgoing = this.open(node, method, path, principal, payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(unreachable(node, error)));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: response.statusCode ?? 502, body: (text === '' ? undefined : JSON.parse(text)) as T });
          } catch (error) {
            reject(new CorralError('INTERNAL', `Node ${node.name} answered ${method} ${path} with a body that is not JSON.`, { cause: error }));
          }
        });
      });
      outgoing.on('error', (error) => reject(unreachable(node, error)));
      outgoing.end(payload);
    });
  }

  /** The node's answer as it came, status, headers and body streamed; `body` replaces the request's (re-encoded JSON). */
  proxy(node: { name: string; url: string }, request: FastifyRequest, reply: FastifyReply, principal: Principal, body: unknown): void {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: OutgoingHttpHeaders = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    void reply.hijack();
    const client = reply.raw;
    const outgoing = this.open(node, request.method, request.url, principal, headers, (response) => {
      client.writeHead(response.statusCode ?? 502, endToEnd(response.headers));
      // A streamed answer (SSE, a long-poll) goes out as it comes; pipe() holds the node's side back while we drain.
      response.pipe(client);
      response.on('error', () => client.destroy());
    });
    // The client left: the node's work for it stops too (a long-poll ends, an event stream closes).
    client.on('close', () => outgoing.destroy());
    outgoing.on('error', (error) => {
      if (client.headersSent) {
        client.destroy();
        return;
      }
      const refusal = unreachable(node, error);
      const text = JSON.stringify(refusal.toBody() satisfies ErrorBody);
      client.writeHead(refusal.status, { 'content-type': 'application/json', 'retry-after': String(refusal.retryAfterSeconds ?? 2), 'content-length': Buffer.byteLength(text) });
      client.end(text);
    });
    outgoing.end(payload);
  }

  /** A long-lived GET (an event stream) to the node; the caller ends it, and handles its `error`. */
  stream(node: { name: string; url: string }, path: string, principal: Principal, headers: OutgoingHttpHeaders, onResponse: (response: IncomingMessage) => void): ClientRequest {
    const outgoing = this.open(node, 'GET', path, principal, headers, onResponse);
    outgoing.end();
    return outgoing;
  }

  private open(
    node: { name: string; url: string },
    method: string,
    path: string,
    principal: Principal,
    headers: OutgoingHttpHeaders,
    onResponse: Parameters<typeof httpRequest>[2],
  ): ReturnType<typeof httpRequest> {
    const target = new URL(path, node.url);
    const secure = target.protocol === 'https:';
    const outgoing = (secure ? httpsRequest : httpRequest)(target, {
      method,
      agent: secure ? this.tlsAgent : this.agent,
      headers: { ...headers, host: target.host, [CLUSTER_TOKEN_HEADER]: this.clusterToken, [CALLER_HEADER]: callerHeaderOf(principal) },
    }, onResponse);
    outgoing.setTimeout(CONNECT_TIMEOUT_MS, () => {
      // Only the connect is timed: once the request is out, a long-poll may take as long as it asked for.
      if (!outgoing.reusedSocket && outgoing.socket?.connecting === true) outgoing.destroy(new Error('connect timeout'));
    });
    outgoing.once('socket', (socket) => {
      socket.setNoDelay(true);
      if (!socket.connecting) outgoing.setTimeout(0);
      else socket.once('connect', () => outgoing.setTimeout(0));
    });
    return outgoing;
  }

  dispose(): void {
    this.agent.destroy();
    this.tlsAgent.destroy();
  }
}

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export function unreachable(node: { name: string }, error: Error): CorralError {
  return new CorralError('NODE_UNREACHABLE', `Node ${node.name} is not answering (${error.message}); its sessions may still run: retry once it is back.`, { cause: error });
}
