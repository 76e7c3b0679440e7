// Benchmarks of issue 2, each against a baseline measured in the same run: (a) create → first prompt, (b) churn of
// 2,000 sessions 50 at a time, (c) 200 MB flood read back by cursor. Prints ratios, writes bench/results/*.json.
// Not part of the test suite and never a pass/fail gate: the numbers depend on the machine and its load.
// Usage: npm run bench [-- startup churn throughput]   (default: all three)

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, cpus } from 'node:os';
import * as pty from 'node-pty';
import { startDaemon, type DaemonHandle } from '../test/helpers/daemonHarness.js';
import type { OutputRead, SessionInfo } from '../src/protocol/sessionTypes.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');
const FLOOD_FIXTURE = join(import.meta.dirname, '..', 'test', 'helpers', 'fixtures', 'flood.mjs');
/** Startup samples per side: enough for a p99 that is not just the maximum of a handful. */
const STARTUP_SAMPLES = Number(process.env.BENCH_STARTUP_SAMPLES ?? 100);
/** Issue 2: 2,000 sessions, 50 at a time. */
const CHURN_SESSIONS = 2000;
const CHURN_CONCURRENCY = 50;
/** The churn runs in this many interleaved rounds per side (2,000 / 4 = 500 sessions each). */
const CHURN_ROUNDS = 4;
/** Issue 2: a 200 MB flood. */
const FLOOD_BYTES = 200 * 1024 * 1024;
/** Largest cursor read the REST API allows (4 MiB): fewest round trips. */
const READ_BYTES = 4 * 1024 * 1024;
/** Long-poll bound for one wait request: a session stuck this long is a failure, not a slow sample. */
const WAIT_MS = 60_000;
/** The shell whose first prompt is timed: no rc files, so only the shell's own start-up is measured. */
const SHELL = ['/bin/bash', '--norc', '-i'];
/** A prompt ends in "$ " or "# " (root). */
const PROMPT = /[$#] $/;
const PTY_SIZE = { cols: 120, rows: 40 };

interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: round(at(0.5)), p99: round(at(0.99)), mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length) };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG']) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, TERM: 'xterm-256color' };
}

/** Raw node-pty: spawn, resolve with the ms until the output shows a prompt; the shell is then killed. */
function rawFirstPrompt(cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const [file = '/bin/bash', ...args] = SHELL;
    const term = pty.spawn(file, args, { ...PTY_SIZE, cwd, env: childEnv(), name: 'xterm-256color' });
    let seen = '';
    let done = false;
    term.onData((data) => {
      if (done) return;
      seen += data;
      if (PROMPT.test(seen)) {
        done = true;
        resolve(performance.now() - t0);
        term.kill('SIGKILL');
      }
    });
  });
}

/** Corral over REST: POST /sessions, then a long-poll wait for the prompt. */
async function corralFirstPrompt(daemon: DaemonHandle): Promise<{ ms: number; id: string }> {
  const t0 = performance.now();
  const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { command: SHELL, ...PTY_SIZE });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const wait = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${created.body.id}/wait`, {
    pattern: PROMPT.source,
    since: 0,
    timeoutMs: WAIT_MS,
  });
  const ms = performance.now() - t0;
  if (!wait.body.matched) throw new Error('no prompt');
  return { ms, id: created.body.id };
}

async function benchStartup(daemon: DaemonHandle): Promise<Record<string, unknown>> {
  const raw: number[] = [];
  const corral: number[] = [];
  // Interleaved, so drifting machine load hits both sides alike; the first of each is a warm-up.
  for (let i = 0; i <= STARTUP_SAMPLES; i += 1) {
    const r = await rawFirstPrompt(daemon.root);
    const c = await corralFirstPrompt(daemon);
    await daemon.request('DELETE', `/api/v1/sessions/${c.id}?force=true`);
    if (i > 0) {
      raw.push(r);
      corral.push(c.ms);
    }
  }
  const rawStats = stats(raw);
  const corralStats = stats(corral);
  return {
    samples: STARTUP_SAMPLES,
    rawNodePtyMs: rawStats,
    corralRestMs: corralStats,
    ratioP50: round(corralStats.p50 / rawStats.p50),
    ratioP99: round(corralStats.p99 / rawStats.p99),
    goal: 'ratio <= 1.5',
  };
}

async function pool(count: number, concurrency: number, job: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let n = next++; n < count; n = next++) await job(n);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function rawSpawnToExit(cwd: string): Promise<void> {
  return new Promise((resolve) => {
    const term = pty.spawn('/bin/true', [], { ...PTY_SIZE, cwd, env: childEnv(), name: 'xterm-256color' });
    term.onExit(() => resolve());
  });
}

interface ProcFacts {
  fds: number;
  rssKb: number;
  zombies: number;
  children: number;
}

function procFacts(pid: number): ProcFacts {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let zombies = 0;
  let children = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch (error) {
      // ENOENT/ESRCH: the process ended during the scan.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') continue;
      throw error;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== pid) continue;
    children += 1;
    if (fields[0] === 'Z') zombies += 1;
  }
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssKb, zombies, children };
}

async function benchChurn(daemon: DaemonHandle): Promise<Record<string, unknown>> {
  // Warm both sides (JIT, SQLite pages, caches) before the baselines are taken.
  await pool(CHURN_CONCURRENCY, CHURN_CONCURRENCY, () => rawSpawnToExit(daemon.root));
  const corralOne = async (): Promise<void> => {
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { command: ['/bin/true'] });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    const wait = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: WAIT_MS });
    if (!wait.body.matched) throw new Error('session did not exit');
  };
  await pool(CHURN_CONCURRENCY * 2, CHURN_CONCURRENCY, corralOne);

  // Interleaved rounds (raw, Corral, raw, …), each side 2,000 sessions in all: load that drifts during the run
  // (a shared machine) then hits both sides alike instead of whichever ran second.
  const before = procFacts(daemon.pid);
  let rawSeconds = 0;
  let corralSeconds = 0;
  for (let round = 0; round < CHURN_ROUNDS; round += 1) {
    let t0 = performance.now();
    await pool(CHURN_SESSIONS / CHURN_ROUNDS, CHURN_CONCURRENCY, () => rawSpawnToExit(daemon.root));
    rawSeconds += (performance.now() - t0) / 1000;
    t0 = performance.now();
    await pool(CHURN_SESSIONS / CHURN_ROUNDS, CHURN_CONCURRENCY, corralOne);
    corralSeconds += (performance.now() - t0) / 1000;
  }
  // The daemon's reaper scans once a second and reaps on the second sighting.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const after = procFacts(daemon.pid);
  const rawRate = CHURN_SESSIONS / rawSeconds;
  const corralRate = CHURN_SESSIONS / corralSeconds;
  return {
    sessions: CHURN_SESSIONS,
    concurrency: CHURN_CONCURRENCY,
    rawNodePtyPerSecond: round(rawRate, 1),
    corralRestPerSecond: round(corralRate, 1),
    ratio: round(corralRate / rawRate),
    goal: 'ratio >= 0.7',
    daemonBefore: before,
    daemonAfter: after,
    zombiesAfter: after.zombies,
    fdGrowth: after.fds - before.fds,
    rssGrowthKb: after.rssKb - before.rssKb,
  };
}

function rawFlood(cwd: string): Promise<{ bytes: number; seconds: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const term = pty.spawn(process.execPath, [FLOOD_FIXTURE, String(FLOOD_BYTES)], { ...PTY_SIZE, cwd, env: childEnv(), name: 'xterm-256color' });
    let bytes = 0;
    term.onData((data) => {
      bytes += Buffer.byteLength(data);
    });
    term.onExit(() => resolve({ bytes, seconds: (performance.now() - t0) / 1000 }));
  });
}

async function corralFlood(daemon: DaemonHandle): Promise<{ bytes: number; gap: number; seconds: number; reads: number }> {
  const t0 = performance.now();
  const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { command: [process.execPath, FLOOD_FIXTURE, String(FLOOD_BYTES)] });
  if (created.status !== 201) throw new Error(`create: ${created.status}`);
  const id = created.body.id;
  let cursor = 0;
  let bytes = 0;
  let gap = 0;
  let reads = 0;
  for (;;) {
    const read = await daemon.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?since=${cursor}&limit=${READ_BYTES}`);
    reads += 1;
    const got = Buffer.byteLength(read.body.data, 'base64');
    bytes += got;
    gap += read.body.gap;
    cursor = read.body.nextOffset;
    if (got > 0) continue;
    const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
    if (info.body.state === 'terminated' && cursor >= info.body.output.totalBytes) break;
    // Caught up with a live flood: wait for more rather than spin.
    await daemon.request('POST', `/api/v1/sessions/${id}/wait`, { pattern: 'x', timeoutMs: 1000 });
  }
  return { bytes, gap, seconds: (performance.now() - t0) / 1000, reads };
}

async function benchThroughput(daemon: DaemonHandle): Promise<Record<string, unknown>> {
  const raw = await rawFlood(daemon.root);
  const corral = await corralFlood(daemon);
  const mb = (bytes: number, seconds: number): number => round(bytes / (1024 * 1024) / seconds, 1);
  return {
    floodBytes: FLOOD_BYTES,
    rawNodePty: { bytes: raw.bytes, seconds: round(raw.seconds), mbPerSecond: mb(raw.bytes, raw.seconds) },
    corralRestCursor: { ...corral, seconds: round(corral.seconds), mbPerSecond: mb(corral.bytes + corral.gap, corral.seconds) },
    ratio: round(mb(corral.bytes + corral.gap, corral.seconds) / mb(raw.bytes, raw.seconds)),
  };
}

/** Extra `corral serve` flags (BENCH_DAEMON_ARGS, space-separated), to see what one layer costs: `--session-host daemon`. */
const DAEMON_ARGS = (process.env.BENCH_DAEMON_ARGS ?? '').split(' ').filter((arg) => arg !== '');

const BENCHES = { startup: benchStartup, churn: benchChurn, throughput: benchThroughput } as const;
type BenchName = keyof typeof BENCHES;

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((name): name is BenchName => name in BENCHES);
  const names: BenchName[] = asked.length > 0 ? asked : ['startup', 'churn', 'throughput'];
  mkdirSync(RESULTS_DIR, { recursive: true });
  const machine = { cpus: cpus().length, loadavgAtStart: loadavg().map((n) => round(n)), node: process.version };
  for (const name of names) {
    const daemon = await startDaemon({ useBin: process.env.BENCH_USE_BIN === '1', args: DAEMON_ARGS });
    try {
      const result = { bench: name, at: new Date().toISOString(), machine, ...(await BENCHES[name](daemon)) };
      writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
      console.log(JSON.stringify(result, null, 2));
    } finally {
      await daemon.stop();
      daemon.cleanup();
    }
  }
}

await main();
