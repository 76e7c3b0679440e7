// Health, stats and Prometheus metrics.

import type { RouteTable } from '../routeTable.js';
import type { AppContext } from '../appContext.js';

export function registerSystemRoutes(routes: RouteTable, ctx: AppContext): void {
  routes.add({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness: says only that the daemon is up (no token needed)',
    tag: 'system',
    public: true,
    handler: () => ({ ok: true }),
  });

  routes.add({
    method: 'GET',
    url: '/stats',
    summary: 'Sessions by state and profile, totals',
    tag: 'system',
    handler: () => ({ ...ctx.engine.stats(), version: ctx.version }),
  });
}
