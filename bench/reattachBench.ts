// Reattach time (issue 14): a daemon with N live sessions (half pty, half pipe, each with some output) is killed
// with kill -9, or stopped with SIGTERM, and restarted on the same data dir; prints how long the engine took to
// reattach all of them (its own measure, from the start log line) and the whole restart until daemon.json appears.
// Not part of the test suite and never a pass/fail gate. Usage: node --import tsx bench/reattachBench.ts [N]

import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../src/engine/process/nativeBinding.js';
import { childPids, readProcStat } from '../src/engine/process/procfs.js';
import { startDaemon, type DaemonHandle } from '../test/helpers/daemonHarness.js';

const SESSIONS = Number(process.argv[2] ?? 200);
/** Sessions created at once: the daemon's create path is synchronous, the HTTP round trips overlap. */
const CREATE_CONCURRENCY = 20;

/** The engine's own reattach figures, from the start log line (logged just after daemon.json is written). */
async function reattachOf(daemon: DaemonHandle): Promise<{ reattached: number; lost: number; ms: number }> {
  for (let tries = 0; tries < 200; tries++) {
    for (const line of daemon.stderr().split('\n')) {
      if (!line.includes('corral daemon listening')) continue;
      const parsed = JSON.parse(line) as { reattach?: { reattached: number; lost: number; ms: number } };
      if (parsed.reattach !== undefined) return parsed.reattach;
    }
    await sleep(10);
  }
  throw new Error('no start line with reattach figures');
}

async function restart(previous: DaemonHandle): Promise<{ daemon: DaemonHandle; wallMs: number }> {
  const started = performance.now();
  // REATTACH_CPU_PROF=<dir>: restarted daemons run from dist/ with --cpu-prof writing there (profiling the reattach).
  const profileDir = process.env.REATTACH_CPU_PROF;
  const nodeArgs = profileDir === undefined ? undefined : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const daemon = await startDaemon({ dataDir: previous.dataDir, base: previous.base, useBin: process.env.BENCH_USE_BIN === '1', ...(nodeArgs === undefined ? {} : { nodeArgs }) });
  return { daemon, wallMs: performance.now() - started };
}

/** Holders whose daemon died re-parent to us: reap the ones that exited. */
function reapZombies(): void {
  for (const pid of childPids(process.pid)) if (readProcStat(pid)?.state === 'Z') native.waitpidNoHang(pid);
}

native.setChildSubreaper();
console.log(`load average at start: ${loadavg().map((n) => n.toFixed(2)).join(' ')}; ${SESSIONS} sessions`);
const useBin = process.env.BENCH_USE_BIN === '1';
const first = await startDaemon({ args: ['--max-sessions', String(SESSIONS + 10)], useBin });
let current = first;
try {
  const coldStarted = performance.now();
  const coldBaseline = await startDaemon({ args: ['--session-host', 'daemon'], useBin });
  const coldMs = performance.now() - coldStarted;
  await coldBaseline.stop('end-sessions');
  coldBaseline.cleanup();
  for (let i = 0; i < SESSIONS; i += CREATE_CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(CREATE_CONCURRENCY, SESSIONS - i) }, async (_, j) => {
        const pty = (i + j) % 2 === 0;
        const body = pty
          ? { command: ['/bin/sh', '-c', 'printf "\\033[1mready\\033[0m %s\\n" $$; exec sleep 100000'] }
          : { kind: 'pipe', command: ['/bin/sh', '-c', 'seq 1 2000; exec sleep 100000'] };
        const reply = await current.request('POST', '/api/v1/sessions', body);
        if (reply.status !== 201) throw new Error(`create answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      }),
    );
  }
  await sleep(1000);
  console.log(`empty daemon start (baseline): ${coldMs.toFixed(0)} ms`);
  for (const how of ['kill -9', 'SIGTERM', 'kill -9']) {
    if (how === 'kill -9') await current.crash();
    else await current.stop('keep-sessions');
    reapZombies();
    const { daemon, wallMs } = await restart(current);
    current = daemon;
    const figures = await reattachOf(daemon);
    console.log(
      `after ${how}: reattached ${figures.reattached}, lost ${figures.lost}, engine reattach ${figures.ms} ms; restart until listening ${wallMs.toFixed(0)} ms`,
    );
  }
} finally {
  await current.stop('end-sessions');
  reapZombies();
  first.cleanup();
}
