// Prometheus metrics (prom-client), collected from the engine and the door at scrape time: nothing on the output
// hot path.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { TaskHealth } from '../common/PeriodicTask.js';
import type { Engine } from '../engine/Engine.js';
import type { AuthFailureLimiter } from './authFailures.js';
import type { ConnectionGuard } from './ConnectionGuard.js';

/** What the metrics read besides the engine: the faces' task health, the connection caps, wrong tokens. */
export interface DoorMetricsSources {
  tasks: () => TaskHealth[];
  connections: ConnectionGuard;
  authFailures: AuthFailureLimiter;
}

export function createMetrics(engine: Engine, door: DoorMetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'corral_daemon_' });
  const allTasks = (): TaskHealth[] => [...engine.health().tasks, ...door.tasks()];
  new Gauge({
    name: 'corral_background_task_up',
    help: 'Whether each periodic task (reaping, sampling, heartbeats) succeeded on its last run (1) or is failing and backing off (0)',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const task of allTasks()) this.set({ task: task.name }, task.ok ? 1 : 0);
    },
  });
  new Counter({
    name: 'corral_background_task_failures_total',
    help: 'Failed runs of each periodic task since the daemon started',
    labelNames: ['task'],
    registers: [registry],
    collect() {
      this.reset();
      for (const task of allTasks()) this.inc({ task: task.name }, task.totalFailures);
    },
  });
  new Gauge({
    name: 'corral_http_connections',
    help: 'Open HTTP connections: all, and those that have not shown the token',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = door.connections.stats();
      this.set({ state: 'open' }, stats.open);
      this.set({ state: 'unauthenticated' }, stats.unauthenticated);
    },
  });
  new Counter({
    name: 'corral_http_connections_closed_total',
    help: 'Connections the door closed: strangers evicted past their cap, connections refused past the total cap',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const stats = door.connections.stats();
      this.reset();
      this.inc({ reason: 'evicted' }, stats.evicted);
      this.inc({ reason: 'refused' }, stats.refused);
    },
  });
  new Counter({
    name: 'corral_auth_failures_total',
    help: 'Wrong tokens, by answer: refused (401) or rate_limited (429, the peer sent too many)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const stats = door.authFailures.stats();
      this.reset();
      this.inc({ outcome: 'refused' }, stats.refused);
      this.inc({ outcome: 'rate_limited' }, stats.rateLimited);
    },
  });
  new Gauge({
    name: 'corral_sessions_live',
    help: 'Live sessions by state',
    labelNames: ['state', 'profile'],
    registers: [registry],
    collect() {
      this.reset();
      for (const session of engine.sessions.live()) {
        this.inc({ state: session.state, profile: session.profile });
      }
    },
  });
  new Gauge({
    name: 'corral_sessions_total',
    help: 'Sessions since the daemon started, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const totals = engine.stats().totals;
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
        for (const session of engine.sessions.live()) {
          const usage = session.usage;
          if (usage !== null) this.set({ session: session.id, profile: session.profile }, pick(usage));
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
      for (const session of engine.sessions.live()) this.set({ session: session.id }, session.output.totalBytes);
    },
  });
  new Gauge({
    name: 'corral_store_queued_writes',
    help: 'Records the store refused (full disk, locked) waiting in memory to be retried; dropped: given up',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const storage = engine.health().storage;
      this.set({ status: 'queued' }, storage.queued);
      this.set({ status: 'dropped' }, storage.dropped);
    },
  });
  new Gauge({
    name: 'corral_store_refusing',
    help: '1 while the store refuses writes, by reason (STORAGE_FULL, STORE_BUSY)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      const problem = engine.health().storage.problem;
      this.set({ code: 'STORAGE_FULL' }, problem?.code === 'STORAGE_FULL' ? 1 : 0);
      this.set({ code: 'STORE_BUSY' }, problem?.code === 'STORE_BUSY' ? 1 : 0);
    },
  });
  return registry;
}
