// Health, stats and Prometheus metrics.

import type { FastifyRequest } from 'fastify';
import type { TaskHealth } from '../../common/PeriodicTask.js';
import type { EngineHealth } from '../../engine/engineTypes.js';
import { doorRequestOf, hasToken } from '../auth.js';
import type { RouteTable } from '../routeTable.js';
import type { AppContext } from '../appContext.js';
import type { ConnectionGuard, ConnectionStats } from '../ConnectionGuard.js';

export interface HealthReply {
  /** The daemon is up and answering (liveness). */
  ok: true;
  /** The store refuses writes or a background task is failing (both are retried; `details` says which and why). */
  degraded: boolean;
  status: 'ok' | 'degraded';
  /**
   * Only for a caller with the token: task errors and storage problems name paths, and a stranger learns nothing
   * from the door. Built from memory only, so `/healthz` answers at once even while the store is locked.
   */
  details?: {
    /** Whether the store takes writes (STORAGE_FULL, STORE_BUSY), and how many records wait in memory. */
    storage: EngineHealth['storage'];
    tasks: TaskHealth[];
    connections: ConnectionStats;
    /** The descriptor limit the daemon runs with (soft RLIMIT_NOFILE). */
    openFilesLimit: number | null;
    /** Whether session sandboxes can be made here (`available`, else `reason`): sandboxed sessions are refused otherwise. */
    sandbox: EngineHealth['sandbox'];
  };
}

export function healthReply(ctx: AppContext, connections: ConnectionGuard, request: FastifyRequest): HealthReply {
  const engine = ctx.engine.health();
  const tasks = [...engine.tasks, ...(ctx.tasks?.all() ?? [])];
  const degraded = !engine.storage.ok || tasks.some((task) => !task.ok);
  const status = degraded ? 'degraded' : 'ok';
  const door = doorRequestOf(request.headers, request.url, request.raw.socket.remoteAddress);
  if (!hasToken(ctx.door, door, ctx.cookieValid ?? (() => false))) return { ok: true, degraded, status };
  return {
    ok: true,
    degraded,
    status,
    details: { storage: engine.storage, tasks, connections: connections.stats(), openFilesLimit: ctx.openFiles ?? null, sandbox: engine.sandbox },
  };
}

export function registerSystemRoutes(routes: RouteTable, ctx: AppContext, connections: ConnectionGuard): void {
  routes.add({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness (no token needed): up, and whether the store or a background task is degraded (with the token, details: storage, tasks, connections)',
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
