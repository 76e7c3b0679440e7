// `/ws/sessions/{id}`: takes HTTP upgrades through the same door as REST (Host/Origin allowlists, bearer token
// or dashboard cookie), refuses with a real HTTP status before upgrading, and runs heartbeats and the handshake
// timeout. It keeps no session state: output comes from the engine's streams, per client cursor.

import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { MAX_INPUT_BYTES } from '../../protocol/api.js';
import { CorralError, isCorralError } from '../../protocol/errors.js';
import { DisposableStore, toDisposable, type Disposable } from '../../common/lifecycle.js';
import { PeriodicTask, type TaskHealth } from '../../common/PeriodicTask.js';
import type { Engine } from '../../engine/Engine.js';
import type { LiveSession } from '../../engine/engineTypes.js';
import { checkHostAndOrigin, checkToken, doorRequestOf, tryDecodeURIComponent, type DoorPolicy } from '../auth.js';
import { HEADERS_TIMEOUT_MS } from '../app.js';
import { parseWith } from '../routeTable.js';
import { routedElsewhere } from '../upgradeRouters.js';
import { SessionChannel } from './SessionChannel.js';
import { DEFAULT_SOCKET_LIMITS, SessionSocket, type SocketLimits } from './SessionSocket.js';
import { socketQuerySchema, type SocketQuery } from '../../protocol/wsSchemas.js';

const WS_PATH_PREFIX = '/ws/';
const SESSION_PATH = /^\/ws\/sessions\/([^/]+)$/;

/** Largest client frame: an input of MAX_INPUT_BYTES plus JSON escaping headroom (ws closes with 1009 past it). */
export const WS_MAX_MESSAGE_BYTES = 2 * MAX_INPUT_BYTES + 1024;
/** Ping every 15 s; a peer that missed one whole period is dropped (dead within 15–30 s, like SSH keepalives). */
const DEFAULT_HEARTBEAT_MS = 15_000;
/**
 * A connection must finish its first request (or upgrade) headers within 15 s: a backstop behind the HTTP server's
 * own headers timeout (HEADERS_TIMEOUT_MS), which fires first and answers 408 in the catalog shape.
 */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = HEADERS_TIMEOUT_MS + 5_000;
/** Screen snapshots retried while output keeps arriving, so the snapshot and its offset agree. */
const SCREEN_SETTLE_TRIES = 5;

export interface SocketServerOptions {
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  limits?: Partial<SocketLimits>;
  cookieValid?: (value: string) => boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export class SessionSocketServer implements Disposable {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private readonly channels = new Map<string, SessionChannel>();
  private readonly sockets = new Set<SessionSocket>();
  private readonly disposables = new DisposableStore();
  private readonly limits: SocketLimits;
  private readonly log: NonNullable<SocketServerOptions['log']>;
  /** Pings every client; guarded, so a throwing ping can never take the daemon down. */
  private readonly heartbeatTask: PeriodicTask;

  constructor(
    private readonly engine: Engine,
    private readonly door: DoorPolicy,
    private readonly options: SocketServerOptions = {},
  ) {
    this.limits = { ...DEFAULT_SOCKET_LIMITS, ...options.limits };
    this.log = options.log ?? (() => undefined);
    this.heartbeatTask = new PeriodicTask(
      { name: 'websocket heartbeat', intervalMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, log: (level, message, fields) => this.log(level, message, fields) },
      () => this.heartbeat(),
    ).start();
    this.disposables.add(this.heartbeatTask);
  }

  /** The heartbeat task's health (for `/healthz` and metrics). */
  health(): TaskHealth {
    return this.heartbeatTask.health();
  }

  /** Number of attached clients (all sessions). */
  get clientCount(): number {
    return this.sockets.size;
  }

  /** Takes upgrades under /ws/ on `server` and times out connections whose first headers never finish. */
  listen(server: Server): Disposable {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.handleUpgrade(server, req, socket, head);
    server.on('upgrade', onUpgrade);
    const timeoutMs = this.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const pending = new Map<Socket, NodeJS.Timeout>();
    const settle = (socket: Socket | Duplex): void => {
      const timer = pending.get(socket as Socket);
      if (timer === undefined) return;
      clearTimeout(timer);
      pending.delete(socket as Socket);
    };
    const onConnection = (socket: Socket): void => {
      const timer = setTimeout(() => {
        pending.delete(socket);
        socket.destroy();
      }, timeoutMs);
      timer.unref();
      pending.set(socket, timer);
      socket.once('close', () => settle(socket));
    };
    const onRequest = (req: IncomingMessage): void => settle(req.socket);
    server.on('connection', onConnection);
    server.on('request', onRequest);
    // Upgrade listeners run in order; settling first keeps a slow door check from counting as a slow handshake.
    server.prependListener('upgrade', (req: IncomingMessage) => settle(req.socket));
    return this.disposables.add(
      toDisposable(() => {
        server.off('upgrade', onUpgrade);
        server.off('connection', onConnection);
        server.off('request', onRequest);
        for (const timer of pending.values()) clearTimeout(timer);
        pending.clear();
      }),
    );
  }

  private handleUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    // Other faces may take other upgrade paths; /ws/ is ours, and so is everything when nobody else listens.
    if (!path.startsWith(WS_PATH_PREFIX) && server.listeners('upgrade').length > 2) return;
    // A fleet: a session on another node is bridged there (src/fleet/), with the same door at this end.
    if (routedElsewhere(server, req, socket, head)) return;
    let session: LiveSession;
    let query: SocketQuery;
    try {
      const door = doorRequestOf(req.headers, url, req.socket.remoteAddress);
      checkHostAndOrigin(this.door, door);
      const principal = checkToken(this.door, door, this.options.cookieValid ?? (() => false));
      this.door.trust?.(req.socket);
      const match = SESSION_PATH.exec(path);
      if (match?.[1] === undefined) throw new CorralError('NOT_FOUND', `No WebSocket route ${path}; use /ws/sessions/{id}.`);
      query = parseWith(socketQuerySchema, Object.fromEntries(door.query), 'query');
      // A malformed %-escape names no session: looked up as typed, it gets the usual 404.
      const id = tryDecodeURIComponent(match[1]) ?? match[1];
      // A session's scoped token attaches to its own session and its task's only.
      if (principal.kind === 'scoped') this.engine.tokens.checkSession({ scope: principal.scope, face: 'websocket' }, id, 'GET /ws/sessions/:id');
      session = this.engine.sessions.attach(id);
    } catch (error) {
      refuseUpgrade(socket, error);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.accept(ws, session, query).catch((error: unknown) => {
        this.log('error', 'websocket attach failed', { session: session.id, error: (error as Error).message });
        ws.terminate();
      });
    });
  }

  private async accept(ws: WebSocket, session: LiveSession, query: SocketQuery): Promise<void> {
    // The client may send as soon as the upgrade completes (keys typed at once, its size), while the screen below is
    // still being rendered: ws drops a message nobody listens for, so hold them and hand them over in order.
    const early: [RawData, boolean][] = [];
    const hold = (data: RawData, isBinary: boolean): void => {
      early.push([data, isBinary]);
    };
    ws.on('message', hold);
    const stream = session.output;
    let cursor = query.since === undefined ? stream.endOffset : Math.min(query.since, stream.endOffset);
    let screen = null;
    if (query.screen === '1' && session.toInfo().kind === 'pty') {
      // The rendered screen replaces a replay of megabytes; output then continues from the screen's offset.
      for (let tries = 0; tries < SCREEN_SETTLE_TRIES; tries++) {
        const before = stream.endOffset;
        screen = await session.screenSnapshot();
        cursor = stream.endOffset;
        if (cursor === before) break;
      }
    }
    if (ws.readyState !== ws.OPEN) return;
    const socket = new SessionSocket(ws, session, {
      readOnly: query.mode === 'read-only',
      flow: query.flow,
      cursor,
      limits: this.limits,
      onProgress: () => this.channels.get(session.id)?.evaluate(),
      // The channel exists by the time a frame can arrive: it is made below, before any message is read.
      onResize: (client, size, take) => this.channels.get(session.id)?.vote(client, size, take),
      log: this.log,
    });
    this.sockets.add(socket);
    const info = session.toInfo();
    socket.sendText({
      type: 'state',
      state: info.state,
      from: null,
      reason: info.stateReason,
      source: info.stateSource,
      at: new Date().toISOString(),
      offset: cursor,
      session: info,
    });
    if (screen !== null) socket.sendText({ type: 'screen', offset: cursor, ...screen });
    let channel = this.channels.get(session.id);
    if (channel === undefined) {
      channel = new SessionChannel(session);
      this.channels.set(session.id, channel);
    }
    const owner = channel;
    ws.on('close', () => {
      this.sockets.delete(socket);
      owner.remove(socket);
      if (owner.size === 0 && this.channels.get(session.id) === owner) {
        this.channels.delete(session.id);
        owner.dispose();
      }
    });
    ws.on('error', (error) => this.log('warn', 'websocket error', { session: session.id, error: error.message }));
    owner.add(socket);
    // The socket listens from here on (its own handler, added in its constructor); the held frames go first.
    ws.off('message', hold);
    for (const [data, isBinary] of early) socket.receive(data, isBinary);
  }

  private heartbeat(): void {
    for (const socket of this.sockets) {
      if (!socket.alive) {
        this.log('info', 'websocket peer missed a heartbeat; dropping it', { session: socket.session.id });
        socket.terminate();
        continue;
      }
      socket.alive = false;
      socket.ws.ping();
    }
  }

  /** Pause state of a session's channel (tests and metrics). */
  isPaused(sessionId: string): boolean {
    return this.channels.get(sessionId)?.isPaused ?? false;
  }

  /** Daemon shutdown: every client is told why and closed. */
  closeAll(error: CorralError): void {
    for (const socket of this.sockets) socket.closeWithError(error);
  }

  dispose(): void {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    for (const channel of this.channels.values()) channel.dispose();
    this.channels.clear();
    this.disposables.dispose();
    this.wss.close();
  }
}

/** Answers a refused upgrade with the error catalog's HTTP status and the same JSON body REST uses. */
export function refuseUpgrade(socket: Duplex, error: unknown): void {
  const mapped = isCorralError(error) ? error : new CorralError('INTERNAL', 'Internal error; the daemon log has the details.');
  const body = JSON.stringify(mapped.toBody());
  socket.end(
    `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      (mapped.retryAfterSeconds === undefined ? '' : `Retry-After: ${mapped.retryAfterSeconds}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
