// Prometheus metrics (prom-client), collected from the engine at scrape time: nothing on the output hot path.

import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionManager } from '../engine/SessionManager.js';

export function createMetrics(manager: SessionManager): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'corral_daemon_' });
  new Gauge({
    name: 'corral_sessions_live',
    help: 'Live sessions by state',
    labelNames: ['state', 'profile'],
    registers: [registry],
    collect() {
      this.reset();
      for (const session of manager.liveSessions()) {
        this.inc({ state: session.state, profile: session.spec.profile.name });
      }
    },
  });
  new Gauge({
    name: 'corral_sessions_total',
    help: 'Sessions since the daemon started, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const totals = manager.stats().totals as { created: number; exited: number; spawnFailed: number };
      this.set({ outcome: 'created' }, totals.created);
      this.set({ outcome: 'exited' }, totals.exited);
      this.set({ outcome: 'spawn_failed' }, totals.spawnFailed);
    },
  });
  const perSession = (name: string, help: string, pick: (u: { cpuMs: number; rssBytes: number; processCount: number }) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['session', 'profile'],
      registers: [registry],
      collect() {
        this.reset();
        for (const session of manager.liveSessions()) {
          const usage = session.toInfo().usage;
          if (usage !== null) this.set({ session: session.id, profile: session.spec.profile.name }, pick(usage));
        }
      },
    });
  };
  perSession('corral_session_cpu_seconds', 'CPU time of the session process tree (sampled)', (u) => u.cpuMs / 1000);
  perSession('corral_session_memory_bytes', 'Resident memory of the session process tree (sampled)', (u) => u.rssBytes);
  perSession('corral_session_processes', 'Processes in the session tree (sampled)', (u) => u.processCount);
  new Gauge({
    name: 'corral_session_output_bytes',
    help: 'Output bytes produced by each live session',
    labelNames: ['session'],
    registers: [registry],
    collect() {
      this.reset();
      for (const session of manager.liveSessions()) this.set({ session: session.id }, session.output.endOffset);
    },
  });
  return registry;
}
