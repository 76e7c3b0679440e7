// What a face (WebSocket, events, webhooks, MCP over HTTP, dashboard) gets when the daemon attaches it: the
// engine, the HTTP app and its route table, the door, a logger. Never the daemon itself, and never another face.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TaskHealthBoard } from '../common/TaskHealthBoard.js';
import type { Engine } from '../engine/Engine.js';
import type { DoorPolicy } from './auth.js';
import type { LoginStore } from './dashboard/loginStore.js';
import type { EventHub } from './events/EventHub.js';
import type { RouteTable } from './routeTable.js';
import type { WebhookStore } from './webhooks/webhookStore.js';

// What a face needs to confine a session's scoped token: the caller the door recorded, and the route config that opens
// a raw route to scoped tokens (`{ scoped: '<face>' }`).
export { scopedCallerOf } from './callers.js';
export type { RouteAccess } from './routeTable.js';

export interface FaceContext {
  engine: Engine;
  /** The HTTP app; `app.server` is the listening server (upgrades). Routes added here skip the route table. */
  app: FastifyInstance;
  /** Schema-first routes (registered after every face attached) and descriptions of raw ones for OpenAPI. */
  routes: RouteTable;
  /** Token, Host/Origin allowlists; the dashboard sets its cookie check here. */
  door: DoorPolicy;
  logger: Logger;
  version: string;
  /** The engine's events numbered once (`<boot>.<seq>`), so SSE and webhooks give an event the same id. */
  events: EventHub;
  /** Webhook subscriptions and deliveries (the daemon's store). */
  webhookStore: WebhookStore;
  /** Dashboard logins (the daemon's store), so a restart logs no browser out; none: in memory only. */
  loginStore?: LoginStore;
  /** Webhook destinations allowed beyond loopback (`corral serve --webhook-allow`). */
  webhookAllow: readonly string[];
  /**
   * This daemon's node name when it is a node of a fleet (`corral serve --cluster`), whose REST front door answers for
   * every node's sessions; unset on a single daemon.
   */
  fleetNode?: string;
  /** Where a face lists its periodic tasks (PeriodicTask) so `/healthz` and the metrics show their health. */
  tasks: TaskHealthBoard;
}

export interface DaemonFace {
  attach(context: FaceContext): void | Promise<void>;
}
