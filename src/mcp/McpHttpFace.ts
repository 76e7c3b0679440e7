// The daemon's MCP face: Streamable HTTP at /mcp (PRODUCT §2.3, §5), one MCP server per MCP session, tools backed
// by the engine in-process, or by what the composition root gives instead (a fleet node: its own REST front door).
// A Fastify route, so the app's onRequest hook applies the same door as REST
// (checkHostAndOrigin + checkToken: Host/Origin allowlists against DNS rebinding, bearer token in constant time).
// Must never keep session state: closing an MCP session closes only its transport, never a Corral session.

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PeriodicTask } from '../common/PeriodicTask.js';
import { scopedCallerOf, type DaemonFace, type FaceContext, type RouteAccess } from '../server/face.js';
import { createCorralMcpServer } from './corralTools.js';
import { EngineBackend } from './EngineBackend.js';
import type { McpBackend } from './McpBackend.js';
import type { ScopedCaller } from '../engine/engineTypes.js';

/**
 * The tools' backend of an MCP session, by who opened it: the owner (caller undefined) or a session's scoped token
 * (`caller`; `bearer` is the token it showed, for a backend that calls the REST API as that caller).
 */
export type McpBackendFactory = (caller: ScopedCaller | undefined, bearer: string | undefined) => McpBackend;

export interface McpHttpFaceOptions {
  /** Where the tools go; default: this daemon's engine, in-process (engineBackends). */
  backends?: (context: FaceContext) => McpBackendFactory;
}

/** The tools on this daemon's engine, no HTTP hop; a scoped caller's confined to its session and task. */
export function engineBackends(context: FaceContext): McpBackendFactory {
  const owner = new EngineBackend(context.engine);
  return (caller) => (caller === undefined ? owner : new EngineBackend(context.engine, caller));
}

/** The token of `Authorization: Bearer <token>`, if that is what the request carries. */
function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/** Who an MCP session belongs to, as a comparable key. */
function callerKey(caller: ScopedCaller | undefined): string {
  return caller === undefined ? 'owner' : `session:${caller.scope.sessionId}`;
}

export const MCP_PATH = '/mcp';
/** MCP session ids: 128 random bits (the brief asks for at least 128), base64url, visible ASCII as the spec wants. */
const MCP_SESSION_ID_BYTES = 16;
/**
 * Open MCP sessions at once. Each holds a server, a transport and a cursor map (a few KiB); a hundred agents on one
 * daemon is far beyond its 2-core target. Past it the least recently used idle one is closed.
 */
export const MAX_MCP_SESSIONS = 100;
/** An MCP session with no request for this long is closed (clients that vanished without DELETE). */
export const MCP_SESSION_IDLE_MS = 30 * 60 * 1000;
/** How often idle MCP sessions are looked for. */
const SWEEP_INTERVAL_MS = 60 * 1000;

/** JSON-RPC error codes the SDK's own examples use for transport-level refusals. */
const JSONRPC_SERVER_ERROR = -32000;
const JSONRPC_SESSION_NOT_FOUND = -32001;

interface McpHttpSession {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  lastUsed: number;
  /** Requests in flight (an SSE stream or a long wait counts): never closed as idle while > 0. */
  active: number;
  /** Who opened it: `owner`, or the session whose scoped token did. Only the same caller may use it. */
  openedBy: string;
}

function sendJsonRpcError(reply: FastifyReply, status: number, code: number, message: string): void {
  void reply
    .code(status)
    .header('content-type', 'application/json')
    .send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export class McpHttpFace implements DaemonFace {
  private readonly sessions = new Map<string, McpHttpSession>();
  /** Closes idle MCP sessions; guarded, so a failing close can never take the daemon down. */
  private sweep: PeriodicTask | null = null;

  constructor(private readonly options: McpHttpFaceOptions = {}) {}

  get openSessions(): number {
    return this.sessions.size;
  }

  attach(context: FaceContext): void {
    const backendFor = (this.options.backends ?? engineBackends)(context);
    const version = context.version;
    const log = context.logger;

    const serve = async (session: McpHttpSession, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      session.lastUsed = performance.now();
      session.active++;
      reply.hijack();
      const res: ServerResponse = reply.raw;
      try {
        await session.transport.handleRequest(request.raw, res, request.body);
      } catch (error) {
        log.error({ err: error }, 'mcp request failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
        }
      } finally {
        session.active--;
        session.lastUsed = performance.now();
      }
    };

    const open = async (caller: ScopedCaller | undefined, bearer: string | undefined): Promise<McpHttpSession | null> => {
      if (this.sessions.size >= MAX_MCP_SESSIONS && !(await this.evictOne())) return null;
      // A session's scoped token gets tools confined to its session and task.
      const backend = backendFor(caller, bearer);
      const server = createCorralMcpServer(backend, { version });
      const session: McpHttpSession = {
        server,
        lastUsed: performance.now(),
        active: 0,
        openedBy: callerKey(caller),
        transport: new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomBytes(MCP_SESSION_ID_BYTES).toString('base64url'),
          onsessioninitialized: (id) => {
            this.sessions.set(id, session);
          },
        }),
      };
      session.transport.onclose = () => {
        const id = session.transport.sessionId;
        if (id !== undefined) this.sessions.delete(id);
      };
      await server.connect(session.transport);
      return session;
    };

    context.routes.describe({
      method: 'POST',
      url: MCP_PATH,
      prefixed: false,
      summary: 'MCP over Streamable HTTP (GET opens the server stream, DELETE ends the MCP session); same bearer token',
      tag: 'mcp',
    });
    context.app.route({
      method: ['GET', 'POST', 'DELETE'],
      url: MCP_PATH,
      // Open to a session's scoped token: its tools are confined (the backend made for that caller).
      config: { scoped: 'mcp' } satisfies RouteAccess,
      handler: async (request, reply) => {
        const header = request.headers['mcp-session-id'];
        const sessionId = Array.isArray(header) ? header[0] : header;
        const caller = scopedCallerOf(request.raw);
        if (sessionId !== undefined) {
          const session = this.sessions.get(sessionId);
          if (session === undefined) {
            sendJsonRpcError(reply, 404, JSONRPC_SESSION_NOT_FOUND, 'MCP session not found (it ended or the daemon restarted): initialize a new one.');
            return;
          }
          if (session.openedBy !== callerKey(caller)) {
            // Another caller's MCP session: a scoped token must not ride on the owner's tools (or another session's).
            if (caller !== undefined) context.engine.tokens.refuse(caller, 'mcp session of another caller', null, 'This MCP session was opened with another token.');
            sendJsonRpcError(reply, 403, JSONRPC_SERVER_ERROR, 'TOKEN_SCOPE: this MCP session was opened with another token; initialize your own.');
            return;
          }
          await serve(session, request, reply);
          return;
        }
        if (request.method !== 'POST' || !isInitializeRequest(request.body)) {
          sendJsonRpcError(reply, 400, JSONRPC_SERVER_ERROR, 'No MCP session: send an initialize request first, then the Mcp-Session-Id header it returns.');
          return;
        }
        const session = await open(caller, bearerOf(request));
        if (session === null) {
          sendJsonRpcError(reply, 429, JSONRPC_SERVER_ERROR, `${MAX_MCP_SESSIONS} MCP sessions are busy; close one (HTTP DELETE /mcp) and retry.`);
          return;
        }
        await serve(session, request, reply);
      },
    });

    // Open SSE streams would keep the HTTP server from closing: end every MCP session first.
    context.app.addHook('preClose', async () => {
      this.sweep?.dispose();
      await this.closeAll();
    });
    this.sweep = new PeriodicTask(
      { name: 'mcp idle sweep', intervalMs: SWEEP_INTERVAL_MS, log: (level, message, fields) => context.logger[level](fields, message) },
      async () => {
        await this.closeIdle(MCP_SESSION_IDLE_MS);
      },
    ).start();
    const listed = context.tasks.add(this.sweep);
    context.app.addHook('onClose', () => listed.dispose());
  }

  /** Closes MCP sessions idle for longer than `idleMs` (never one with a request in flight). */
  async closeIdle(idleMs: number): Promise<number> {
    const now = performance.now();
    const idle = [...this.sessions.values()].filter((s) => s.active === 0 && now - s.lastUsed > idleMs);
    await Promise.all(idle.map((s) => this.close(s)));
    return idle.length;
  }

  private async evictOne(): Promise<boolean> {
    let oldest: McpHttpSession | undefined;
    for (const session of this.sessions.values()) {
      if (session.active === 0 && (oldest === undefined || session.lastUsed < oldest.lastUsed)) oldest = session;
    }
    if (oldest === undefined) return false;
    await this.close(oldest);
    return true;
  }

  private async close(session: McpHttpSession): Promise<void> {
    const id = session.transport.sessionId;
    if (id !== undefined) this.sessions.delete(id);
    // Closing the server closes its transport too; Corral sessions it created keep running.
    await session.server.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.close(s)));
  }
}
