// Upgrades another layer may take before the WebSocket face sees them: a fleet's bridge takes `/ws/sessions/{id}` of a
// session that runs on another node. One listener ('upgrade') serves both, so nobody answers a socket twice.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Takes the upgrade (answers or bridges `socket` itself) and returns true, or returns false and leaves it alone. */
export type UpgradeRouter = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

const routers = new WeakMap<Server, UpgradeRouter[]>();

export function addUpgradeRouter(server: Server, router: UpgradeRouter): () => void {
  const list = routers.get(server) ?? [];
  list.push(router);
  routers.set(server, list);
  return () => {
    const at = list.indexOf(router);
    if (at >= 0) list.splice(at, 1);
  };
}

/** Whether a router took the upgrade (the WebSocket face then does nothing with it). */
export function routedElsewhere(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  return (routers.get(server) ?? []).some((router) => router(req, socket, head));
}
