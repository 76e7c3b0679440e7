// Health, stats and Prometheus metrics.

import type { FastifyRequest } from 'fastify';
import type { TaskHealth } from '../../common/PeriodicTask.js';
import { doorRequestOf, hasToken } from '../auth.js';
import type { RouteTable } from '../routeTable.js';
import type { AppContext } from '../appContext.js';
import type { ConnectionGuard, ConnectionStats } from '../ConnectionGuard.js';

export interface HealthReply {
  /** The daemon is up and answering (liveness). */
  ok: true;
  /** A background task is failing (it is retried with backoff; `details.tasks` says which and why). */
  degraded: boolean;
  /** Only for a caller with the token: task errors name paths, and a stranger learns nothing from the door. */
  details?: {
    tasks: TaskHealth[];
    connections: ConnectionStats;
    /** The descriptor limit the daemon runs with (soft RLIMIT_NOFILE). */
    openFilesLimit: number | null;
  };
}

export function healthReply(ctx: AppContext, connections: ConnectionGuard, request: FastifyRequest): HealthReply {
  const tasks = [...ctx.engine.backgroundTasks(), ...(ctx.tasks?.all() ?? [])];
  const degraded = tasks.some((task) => !task.ok);
  const door = doorRequestOf(request.headers, request.url, request.raw.socket.remoteAddress);
  if (!hasToken(ctx.door, door, ctx.cookieValid ?? (() => false))) return { ok: true, degraded };
  return { ok: true, degraded, details: { tasks, connections: connections.stats(), openFilesLimit: ctx.openFiles ?? null } };
}

export function registerSystemRoutes(routes: RouteTable, ctx: AppContext, connections: ConnectionGuard): void {
  routes.add({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness (no token needed): up, and whether a background task is failing (with the token, details: tasks, connections)',
    tag: 'system',
    public: true,
    handler: ({ request }) => healthReply(ctx, connections, request),
  });

  routes.add({
    method: 'GET',
    url: '/stats',
    summary: 'Sessions by state and profile, totals',
    tag: 'system',
    handler: () => ({ ...ctx.engine.stats(), version: ctx.version }),
  });
}
