// Cost per session (issue 18), each side measured in the same run: (a) 100 idle `bash -i` pty sessions with shell
// integration in the daemon (`corral serve`, holder session host by default) against a minimal node-pty→WebSocket
// server and a tmux server running the same shells; (b) churn of 2,000 short pty sessions, the daemon's memory
// before and after (with a forced GC, to tell leaks from heap slack) against the same churn in the node-pty server
// and in tmux (each short session prints 100 coloured lines and exits).
// The daemon's heap is read through its inspector (started with --inspect on 127.0.0.1, port 0), which also forces
// the GCs. Not part of the test suite and never a pass/fail gate: the numbers depend on the machine and its load.
// Usage: node --import tsx bench/memoryBench.ts [idle] [churn]   (default: both; needs `npm run build`)
// Env: BENCH_IDLE_SESSIONS (100), BENCH_CHURN_SESSIONS (2000), BENCH_SESSION_HOST (holder), BENCH_HEAP_SNAPSHOT=1
// (writes daemon heap snapshots before/after the idle sessions into bench/results/).

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import * as pty from 'node-pty';
import { startDaemon, type DaemonHandle } from '../test/helpers/daemonHarness.js';
import type { SessionInfo } from '../src/protocol/sessionTypes.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');
const IDLE_SESSIONS = Number(process.env.BENCH_IDLE_SESSIONS ?? 100);
const CHURN_SESSIONS = Number(process.env.BENCH_CHURN_SESSIONS ?? 2000);
const CHURN_CONCURRENCY = 50;
const SESSION_HOST = process.env.BENCH_SESSION_HOST ?? 'holder';
const PTY_SIZE = { cols: 120, rows: 40 };
const SHELL = ['/bin/bash', '-i'];
/** A short session of the churn: a command that prints ~2 KB with colours and ends (a build step, a test run). */
const SHORT_SESSION = ['/bin/sh', '-c', String.raw`for i in $(seq 1 100); do printf '\033[32mline %s\033[0m ok\n' $i; done`];
/** Long-poll bound for one wait: a session stuck this long is a failure, not a slow sample. */
const WAIT_MS = 60_000;
/** Time for idle shells to settle (the last prompt, the screen's parse, the journal's flush) before measuring. */
const SETTLE_MS = 3000;

interface Memory {
  rssKiB: number;
  pssKiB: number;
}

interface HeapNumbers {
  heapUsedKiB: number;
  heapTotalKiB: number;
  externalKiB: number;
  arrayBuffersKiB: number;
}

function memoryOf(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rssKiB: field('Rss'), pssKiB: field('Pss') };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const kib = (bytes: number): number => Math.round(bytes / 1024);

/** Every shell gets the same empty HOME, so no side pays for this user's startup files. */
const home = mkdtempSync(join(tmpdir(), 'corral-memory-home-'));
const shellEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm-256color', LANG: process.env.LANG ?? 'C.UTF-8' };

// ---- the daemon's inspector ----------------------------------------------------------------------------------

class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { id?: number; result?: unknown };
      if (message.id !== undefined) this.waiting.get(message.id)?.(message.result);
    });
  }

  static async connect(daemon: DaemonHandle): Promise<Inspector> {
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(daemon.stderr());
    if (match?.[1] === undefined) throw new Error(`no inspector URL in the daemon's stderr: ${daemon.stderr()}`);
    const socket = new WebSocket(match[1]);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    return new Inspector(socket);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (result) => resolve(result as T));
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async gc(): Promise<void> {
    // Twice: the first pass finalizes what the second then frees (weak references, external memory).
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
  }

  async heap(): Promise<HeapNumbers> {
    const reply = await this.call<{ result: { value: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())' });
    const usage = JSON.parse(reply.result.value) as { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
    return { heapUsedKiB: kib(usage.heapUsed), heapTotalKiB: kib(usage.heapTotal), externalKiB: kib(usage.external), arrayBuffersKiB: kib(usage.arrayBuffers) };
  }

  async heapSnapshot(path: string): Promise<void> {
    const chunks: string[] = [];
    const listener = (raw: WebSocket.RawData): void => {
      const message = JSON.parse(String(raw)) as { method?: string; params?: { chunk: string } };
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk' && message.params !== undefined) chunks.push(message.params.chunk);
    };
    this.socket.on('message', listener);
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    this.socket.off('message', listener);
    writeFileSync(path, chunks.join(''));
  }

  close(): void {
    this.socket.close();
  }
}

interface DaemonMeasure extends Memory, HeapNumbers {
  /** Resident memory of the malloc heap (brk) and of anonymous mappings (V8's pages, malloc arenas, thread stacks). */
  mallocHeapKiB?: number;
  anonymousKiB?: number;
}

function residentByKind(pid: number): { mallocHeapKiB: number; anonymousKiB: number } {
  let mallocHeapKiB = 0;
  let anonymousKiB = 0;
  let kind: 'heap' | 'anon' | 'other' = 'other';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping !== null) {
      const name = mapping[1] ?? '';
      kind = name === '[heap]' ? 'heap' : name === '' ? 'anon' : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss === null) continue;
    if (kind === 'heap') mallocHeapKiB += Number(rss[1]);
    else if (kind === 'anon') anonymousKiB += Number(rss[1]);
  }
  return { mallocHeapKiB, anonymousKiB };
}

async function measureDaemon(daemon: DaemonHandle, inspector: Inspector): Promise<DaemonMeasure> {
  await inspector.gc();
  await sleep(200);
  return { ...memoryOf(daemon.pid), ...residentByKind(daemon.pid), ...(await inspector.heap()) };
}

// ---- the baseline: a minimal node-pty → WebSocket server, in its own process -----------------------------------

type BaselineRequest = { op: 'spawn'; count: number } | { op: 'churn'; count: number; concurrency: number } | { op: 'measure' } | { op: 'exit' };

/** The child side: what a minimal server does per session (a pty, its output to every connected socket). */
async function baselineServer(): Promise<void> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const terms: pty.IPty[] = [];
  const clients = new Map<pty.IPty, Set<WebSocket>>();
  const open = (file: string, args: string[]): pty.IPty => {
    const term = pty.spawn(file, args, { ...PTY_SIZE, cwd: home, env: shellEnv, name: 'xterm-256color' });
    const sockets = new Set<WebSocket>();
    clients.set(term, sockets);
    term.onData((data) => {
      for (const socket of sockets) socket.send(data);
    });
    return term;
  };
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', async (request: BaselineRequest) => {
    if (request.op === 'spawn') {
      for (let i = 0; i < request.count; i++) terms.push(open(SHELL[0] ?? '/bin/bash', SHELL.slice(1)));
      await sleep(SETTLE_MS);
      process.send?.({ pids: terms.map((term) => term.pid) });
    } else if (request.op === 'churn') {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next++ < request.count) {
          const term = open(SHORT_SESSION[0] ?? '/bin/sh', SHORT_SESSION.slice(1));
          await new Promise<void>((resolve) => term.onExit(() => resolve()));
          clients.delete(term);
        }
      };
      await Promise.all(Array.from({ length: request.concurrency }, worker));
      process.send?.({});
    } else if (request.op === 'measure') {
      gc?.();
      gc?.();
      await sleep(200);
      const usage = process.memoryUsage();
      process.send?.({ ...memoryOf(process.pid), heapUsedKiB: kib(usage.heapUsed), heapTotalKiB: kib(usage.heapTotal), externalKiB: kib(usage.external), arrayBuffersKiB: kib(usage.arrayBuffers) });
    } else {
      for (const term of terms) term.kill('SIGKILL');
      server.close();
      process.exit(0);
    }
  });
  process.send?.({ ready: true });
}

class Baseline {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<Baseline> {
    const child = fork(import.meta.filename, ['--baseline-server'], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: 'inherit' });
    const baseline = new Baseline(child);
    await baseline.next();
    return baseline;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private next<T>(): Promise<T> {
    return new Promise((resolve) => this.child.once('message', (message) => resolve(message as T)));
  }

  async ask<T>(request: BaselineRequest): Promise<T> {
    const reply = this.next<T>();
    this.child.send(request);
    return reply;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ op: 'exit' });
    await exited;
  }
}

// ---- tmux ------------------------------------------------------------------------------------------------------

const TMUX_SOCKET = join(home, 'tmux.sock');
function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-S', TMUX_SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8', env: { ...process.env, ...shellEnv } });
}

// ---- (a) idle sessions -----------------------------------------------------------------------------------------

async function createIdleShell(daemon: DaemonHandle): Promise<SessionInfo> {
  const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { profile: 'shell', command: SHELL, cwd: daemon.root, ...PTY_SIZE });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const wait = await daemon.request<{ outcome: string }>('POST', `/api/v1/sessions/${created.body.id}/wait`, { states: ['ready', 'idle'], timeoutMs: WAIT_MS });
  if (wait.body.outcome !== 'state') throw new Error(`shell ${created.body.id} never became idle: ${JSON.stringify(wait.body)}`);
  return created.body;
}

async function endAll(daemon: DaemonHandle, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(ids.slice(i, i + 20).map((id) => daemon.request('DELETE', `/api/v1/sessions/${id}?force=true`)));
  }
  for (const id of ids) await daemon.request('POST', `/api/v1/sessions/${id}/wait`, { exit: true, timeoutMs: WAIT_MS });
}

async function idle(daemon: DaemonHandle, inspector: Inspector, baseline: Baseline): Promise<Record<string, unknown>> {
  const n = IDLE_SESSIONS;
  // Warm-up: the first shells load code (xterm, the integration) once per daemon, which is not a per-session cost.
  const warm = [];
  for (let i = 0; i < 5; i++) warm.push((await createIdleShell(daemon)).id);
  await endAll(daemon, warm);
  await sleep(SETTLE_MS);

  if (process.env.BENCH_HEAP_SNAPSHOT === '1') await inspector.heapSnapshot(join(RESULTS_DIR, 'daemon-before-idle.heapsnapshot'));
  const before = await measureDaemon(daemon, inspector);
  const sessions: SessionInfo[] = [];
  for (let i = 0; i < n; i++) sessions.push(await createIdleShell(daemon));
  await sleep(SETTLE_MS);
  const after = await measureDaemon(daemon, inspector);
  if (process.env.BENCH_HEAP_SNAPSHOT === '1') await inspector.heapSnapshot(join(RESULTS_DIR, 'daemon-after-idle.heapsnapshot'));
  const shells = sessions.map((s) => memoryOf(s.pid ?? -1));
  const holders = SESSION_HOST === 'holder' ? sessions.map((s) => memoryOf(parentOf(s.pid ?? -1))) : [];
  await endAll(daemon, sessions.map((s) => s.id));

  const rawBefore = await baseline.ask<DaemonMeasure>({ op: 'measure' });
  const rawSpawned = await baseline.ask<{ pids: number[] }>({ op: 'spawn', count: n });
  const rawAfter = await baseline.ask<DaemonMeasure>({ op: 'measure' });
  const rawShells = rawSpawned.pids.map(memoryOf);

  let tmuxSide: Record<string, unknown> = { available: false };
  try {
    tmux('new-session', '-d', '-x', String(PTY_SIZE.cols), '-y', String(PTY_SIZE.rows), SHELL.join(' '));
    await sleep(SETTLE_MS);
    const server = Number(tmux('display-message', '-p', '#{pid}').trim());
    const one = memoryOf(server);
    for (let i = 1; i <= n; i++) tmux('new-session', '-d', '-x', String(PTY_SIZE.cols), '-y', String(PTY_SIZE.rows), SHELL.join(' '));
    await sleep(SETTLE_MS);
    const many = memoryOf(server);
    tmuxSide = { available: true, serverOne: one, serverMany: many, perSessionRssKiB: (many.rssKiB - one.rssKiB) / n, perSessionPssKiB: (many.pssKiB - one.pssKiB) / n };
  } catch (error) {
    tmuxSide = { available: false, error: (error as Error).message };
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // never started (no tmux)
    }
  }

  const per = (a: number, b: number): number => Math.round(((b - a) / n) * 10) / 10;
  const shellPss = median(shells.map((m) => m.pssKiB));
  const holderPss = holders.length > 0 ? median(holders.map((m) => m.pssKiB)) : 0;
  const daemonPss = per(before.pssKiB, after.pssKiB);
  const rawPss = per(rawBefore.pssKiB, rawAfter.pssKiB);
  return {
    sessions: n,
    sessionHost: SESSION_HOST,
    corral: {
      before,
      after,
      perSession: {
        rssKiB: per(before.rssKiB, after.rssKiB),
        pssKiB: daemonPss,
        heapUsedKiB: per(before.heapUsedKiB, after.heapUsedKiB),
        externalKiB: per(before.externalKiB, after.externalKiB),
        arrayBuffersKiB: per(before.arrayBuffersKiB, after.arrayBuffersKiB),
      },
      holderMedian: holders.length > 0 ? { rssKiB: median(holders.map((m) => m.rssKiB)), pssKiB: holderPss } : null,
      shellMedianPssKiB: shellPss,
      totalPssPerSessionKiB: Math.round(daemonPss + holderPss + shellPss),
    },
    rawNodePty: {
      before: rawBefore,
      after: rawAfter,
      perSession: { rssKiB: per(rawBefore.rssKiB, rawAfter.rssKiB), pssKiB: rawPss, heapUsedKiB: per(rawBefore.heapUsedKiB, rawAfter.heapUsedKiB) },
      shellMedianPssKiB: median(rawShells.map((m) => m.pssKiB)),
      totalPssPerSessionKiB: Math.round(rawPss + median(rawShells.map((m) => m.pssKiB))),
    },
    tmux: tmuxSide,
  };
}

// ---- (b) churn -------------------------------------------------------------------------------------------------

async function churnDaemon(daemon: DaemonHandle, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < count) {
      const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { command: SHORT_SESSION, cwd: daemon.root, ...PTY_SIZE });
      if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
      await daemon.request('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: WAIT_MS });
    }
  };
  await Promise.all(Array.from({ length: CHURN_CONCURRENCY }, worker));
}

async function churn(daemon: DaemonHandle, inspector: Inspector, baseline: Baseline): Promise<Record<string, unknown>> {
  // Warm-up: code paths and pools that a first few hundred sessions fill once.
  await churnDaemon(daemon, 200);
  await sleep(SETTLE_MS);
  const start = { ...memoryOf(daemon.pid) };
  const startGc = await measureDaemon(daemon, inspector);
  if (process.env.BENCH_HEAP_SNAPSHOT === '1') await inspector.heapSnapshot(join(RESULTS_DIR, 'daemon-before-churn.heapsnapshot'));
  const t0 = performance.now();
  await churnDaemon(daemon, CHURN_SESSIONS);
  const seconds = (performance.now() - t0) / 1000;
  await sleep(SETTLE_MS);
  const end = { ...memoryOf(daemon.pid) };
  const endGc = await measureDaemon(daemon, inspector);
  if (process.env.BENCH_HEAP_SNAPSHOT === '1') await inspector.heapSnapshot(join(RESULTS_DIR, 'daemon-after-churn.heapsnapshot'));

  await baseline.ask({ op: 'churn', count: 200, concurrency: CHURN_CONCURRENCY });
  const rawStart = await baseline.ask<DaemonMeasure>({ op: 'measure' });
  const r0 = performance.now();
  await baseline.ask({ op: 'churn', count: CHURN_SESSIONS, concurrency: CHURN_CONCURRENCY });
  const rawSeconds = (performance.now() - r0) / 1000;
  const rawEnd = await baseline.ask<DaemonMeasure>({ op: 'measure' });

  let tmuxSide: Record<string, unknown> = { available: false };
  try {
    tmux('new-session', '-d', '-s', 'keep', 'sleep 100000');
    const server = Number(tmux('display-message', '-p', '#{pid}').trim());
    const tmuxStart = memoryOf(server);
    const t1 = performance.now();
    for (let i = 0; i < CHURN_SESSIONS; i++) tmux('new-session', '-d', SHORT_SESSION.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' '));
    const tmuxSeconds = (performance.now() - t1) / 1000;
    await sleep(1000);
    tmuxSide = { available: true, start: tmuxStart, end: memoryOf(server), seconds: Math.round(tmuxSeconds * 10) / 10 };
  } catch (error) {
    tmuxSide = { available: false, error: (error as Error).message };
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // never started
    }
  }
  return {
    sessions: CHURN_SESSIONS,
    concurrency: CHURN_CONCURRENCY,
    corral: { start, startAfterGc: startGc, end, endAfterGc: endGc, rssGrowthKiB: end.rssKiB - start.rssKiB, rssGrowthAfterGcKiB: endGc.rssKiB - startGc.rssKiB, heapGrowthAfterGcKiB: endGc.heapUsedKiB - startGc.heapUsedKiB, seconds: Math.round(seconds * 10) / 10 },
    rawNodePty: { start: rawStart, end: rawEnd, rssGrowthAfterGcKiB: rawEnd.rssKiB - rawStart.rssKiB, heapGrowthAfterGcKiB: rawEnd.heapUsedKiB - rawStart.heapUsedKiB, seconds: Math.round(rawSeconds * 10) / 10 },
    tmux: tmuxSide,
  };
}

// ---- main --------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  const all = which.length === 0;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const diagnostics = mkdtempSync(join(tmpdir(), 'corral-memory-diag-'));
  const daemon = await startDaemon({
    nodeArgs: ['--inspect=127.0.0.1:0', `--diagnostic-dir=${diagnostics}`],
    args: ['--session-host', SESSION_HOST],
    env: { HOME: home, SHELL: '/bin/bash' },
  });
  const baseline = await Baseline.start();
  const inspector = await Inspector.connect(daemon);
  const results: Record<string, unknown> = { load: loadavg(), cpus: cpus().length, node: process.version };
  console.log(`load average at start: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  try {
    if (all || which.includes('idle')) {
      results.idle = await idle(daemon, inspector, baseline);
      console.log(JSON.stringify(results.idle, null, 2));
    }
    if (all || which.includes('churn')) {
      results.churn = await churn(daemon, inspector, baseline);
      console.log(JSON.stringify(results.churn, null, 2));
    }
  } finally {
    inspector.close();
    await baseline.stop();
    await daemon.stop();
    daemon.cleanup();
    rmSync(diagnostics, { recursive: true, force: true });
  }
  writeFileSync(join(RESULTS_DIR, 'memory.json'), JSON.stringify(results, null, 2));
  for (const name of readdirSync(home)) rmSync(join(home, name), { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}

if (process.argv.includes('--baseline-server')) await baselineServer();
else await main();
