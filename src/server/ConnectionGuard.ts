// Caps the HTTP server's connections so that a local process with no token cannot use up the daemon's descriptors
// (and with them every session's): at most `maxConnections` in all (Node refuses more at accept), and at most
// `maxUnauthenticated` that have not shown the token yet; past that the oldest stranger is closed, so a flood can
// never lock the owner out. Must never close a connection that has authenticated.

import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Disposable } from '../common/lifecycle.js';

/** Most connections at once: 1,000 WebSocket clients were measured fine, and dashboards and MCP clients add a few. */
export const MAX_CONNECTIONS = 4096;
/** The fewest the daemon caps connections at, however low the descriptor limit: the owner must still get in. */
export const MIN_CONNECTIONS = 16;
/**
 * Descriptors kept out of the connections' share: the store and its WAL, logs, the hook socket, and per session a
 * pty master, a pidfd and a journal; connections get at most half of what is left.
 */
export const RESERVED_FDS = 128;
/** A quarter of the connections may be strangers (a dashboard before login, `/healthz` probes). */
const UNAUTHENTICATED_SHARE = 4;
const MIN_UNAUTHENTICATED = 8;

export interface ConnectionLimits {
  maxConnections: number;
  maxUnauthenticated: number;
}

/** The caps for a process allowed `openFiles` descriptors (its soft RLIMIT_NOFILE). */
export function connectionLimits(openFiles: number): ConnectionLimits {
  const share = Math.floor((openFiles - RESERVED_FDS) / 2);
  const maxConnections = Math.max(MIN_CONNECTIONS, Math.min(MAX_CONNECTIONS, Number.isFinite(share) ? share : MAX_CONNECTIONS));
  return { maxConnections, maxUnauthenticated: Math.max(MIN_UNAUTHENTICATED, Math.floor(maxConnections / UNAUTHENTICATED_SHARE)) };
}

export interface ConnectionStats extends ConnectionLimits {
  open: number;
  unauthenticated: number;
  /** Strangers closed to make room for a newer connection. */
  evicted: number;
  /** Connections refused at accept because `maxConnections` were open. */
  refused: number;
}

export class ConnectionGuard implements Disposable {
  /** Connections that have not shown the token, oldest first (a Set keeps insertion order). */
  private readonly strangers = new Set<Socket>();
  private open = 0;
  private evicted = 0;
  private refused = 0;

  constructor(
    private readonly server: Server,
    readonly limits: ConnectionLimits,
  ) {
    server.maxConnections = limits.maxConnections;
    server.on('connection', this.onConnection);
    server.on('drop', this.onDrop);
  }

  /** The connection showed the token: it is never closed by the guard. */
  trust(socket: Socket): void {
    this.strangers.delete(socket);
  }

  stats(): ConnectionStats {
    return { ...this.limits, open: this.open, unauthenticated: this.strangers.size, evicted: this.evicted, refused: this.refused };
  }

  dispose(): void {
    this.server.off('connection', this.onConnection);
    this.server.off('drop', this.onDrop);
    this.strangers.clear();
  }

  private readonly onConnection = (socket: Socket): void => {
    this.open++;
    this.strangers.add(socket);
    socket.once('close', () => {
      this.open--;
      this.strangers.delete(socket);
    });
    if (this.strangers.size <= this.limits.maxUnauthenticated) return;
    const oldest = this.strangers.values().next().value;
    if (oldest === undefined) return;
    this.strangers.delete(oldest);
    this.evicted++;
    oldest.destroy();
  };

  private readonly onDrop = (): void => {
    this.refused++;
  };
}
