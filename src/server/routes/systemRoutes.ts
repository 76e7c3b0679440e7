// Health, stats and Prometheus metrics.

import type { Engine } from '../../engine/Engine.js';
import type { RouteTable } from '../routeTable.js';
import type { AppContext } from '../appContext.js';

/**
 * `/healthz`: `ok` says the daemon is up (it answers); `status` and `details` say whether it is degraded: the store
 * refusing writes (STORAGE_FULL, STORE_BUSY, with how many records wait in memory) or a background task failing.
 * Built from memory only, so it answers at once even while the store is locked.
 */
export function healthReply(engine: Engine): { ok: true; status: 'ok' | 'degraded'; details: ReturnType<Engine['health']> } {
  const details = engine.health();
  return { ok: true, status: details.ok ? 'ok' : 'degraded', details };
}

export function registerSystemRoutes(routes: RouteTable, ctx: AppContext): void {
  routes.add({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness (no token needed): up, and whether the store and background tasks are degraded',
    tag: 'system',
    public: true,
    handler: () => healthReply(ctx.engine),
  });

  routes.add({
    method: 'GET',
    url: '/stats',
    summary: 'Sessions by state and profile, totals',
    tag: 'system',
    handler: () => ({ ...ctx.engine.stats(), version: ctx.version }),
  });
}
