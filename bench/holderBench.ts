// Holder overhead (issue 14), each side measured in the same run: spawn → first output and a 200 MB flood through
// corral-holder vs NativePtyBackend directly, and the memory of an idle holder vs a tmux session.
// Not part of the test suite and never a pass/fail gate: the numbers depend on the machine and its load.
// Usage: node --import tsx bench/holderBench.ts [startup] [flood] [memory]   (default: all three)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HolderBackend, type HolderProcess } from '../src/engine/backends/HolderBackend.js';
import { NativePtyBackend } from '../src/engine/backends/NativePtyBackend.js';
import type { BackendProcess, ProcessBackend, SpawnOptions } from '../src/engine/backends/ProcessBackend.js';
import { native } from '../src/engine/process/nativeBinding.js';

const FLOOD_FIXTURE = join(import.meta.dirname, '..', 'test', 'helpers', 'fixtures', 'flood.mjs');
/** Startup samples per side, interleaved. */
const STARTUP_SAMPLES = Number(process.env.BENCH_STARTUP_SAMPLES ?? 40);
/** Issue 2's flood size. */
const FLOOD_BYTES = 200 * 1024 * 1024;
/** Flood rounds per side, interleaved (native, holder, native, holder...). */
const FLOOD_ROUNDS = Number(process.env.BENCH_FLOOD_ROUNDS ?? 2);
/** Idle sessions per side for the memory comparison. */
const IDLE_SESSIONS = 10;

const dataDir = mkdtempSync(join(tmpdir(), 'corral-holder-bench-'));
const holder = new HolderBackend({ dataDir });
const direct = new NativePtyBackend();
let sessions = 0;

function options(file: string, args: string[]): SpawnOptions {
  sessions += 1;
  return { kind: 'pty', file, args, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cols: 120, rows: 40, sessionId: `bench${sessions}` };
}

async function run(backend: ProcessBackend, spawnOptions: SpawnOptions): Promise<{ proc: BackendProcess; closed: Promise<void> }> {
  const proc = await backend.spawn(spawnOptions);
  const closed = new Promise<void>((resolve) => proc.onClosed(() => resolve()));
  return { proc, closed };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function p90(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.9)] ?? NaN;
}

/** Holders re-parent to us (as to the daemon): reap them once they exit. */
async function reap(pid: number): Promise<void> {
  for (let i = 0; i < 500 && native.waitpidNoHang(pid) === null; i++) await sleep(10);
}

async function firstOutput(backend: ProcessBackend): Promise<{ spawnMs: number; firstMs: number }> {
  const started = performance.now();
  const { proc, closed } = await run(backend, options('/bin/echo', ['ready']));
  const spawnMs = performance.now() - started;
  const first = await new Promise<number>((resolve) => {
    const listener = proc.onData(() => {
      listener.dispose();
      resolve(performance.now() - started);
    });
  });
  await closed;
  if (backend === holder) await reap((proc as HolderProcess).record.holder.pid);
  return { spawnMs, firstMs: first };
}

async function startup(): Promise<void> {
  const samples = { direct: [] as number[], holder: [] as number[], directSpawn: [] as number[], holderSpawn: [] as number[] };
  for (let i = 0; i < STARTUP_SAMPLES; i++) {
    const a = await firstOutput(direct);
    const b = await firstOutput(holder);
    samples.direct.push(a.firstMs);
    samples.directSpawn.push(a.spawnMs);
    samples.holder.push(b.firstMs);
    samples.holderSpawn.push(b.spawnMs);
  }
  const line = (name: string, values: number[]): string => `${name}: median ${median(values).toFixed(2)} ms, p90 ${p90(values).toFixed(2)} ms`;
  console.log(`startup (${STARTUP_SAMPLES} samples each, spawn → first output of /bin/echo)`);
  console.log(`  ${line('direct', samples.direct)}   (spawn() call ${median(samples.directSpawn).toFixed(2)} ms)`);
  console.log(`  ${line('holder', samples.holder)}   (spawn() call ${median(samples.holderSpawn).toFixed(2)} ms)`);
  console.log(`  ratio direct/holder (median): ${(median(samples.direct) / median(samples.holder)).toFixed(2)}`);
}

async function floodOnce(backend: ProcessBackend): Promise<number> {
  const { proc, closed } = await run(backend, options(process.execPath, [FLOOD_FIXTURE, String(FLOOD_BYTES)]));
  let bytes = 0;
  let first = 0;
  proc.onData(({ data }) => {
    if (bytes === 0) first = performance.now();
    bytes += data.length;
  });
  await closed;
  const seconds = (performance.now() - first) / 1000;
  if (bytes !== FLOOD_BYTES) throw new Error(`flood delivered ${bytes} bytes, expected ${FLOOD_BYTES}`);
  if (backend === holder) await reap((proc as HolderProcess).record.holder.pid);
  return bytes / seconds;
}

async function flood(): Promise<void> {
  const rates = { direct: [] as number[], holder: [] as number[] };
  for (let i = 0; i < FLOOD_ROUNDS; i++) {
    rates.direct.push(await floodOnce(direct));
    rates.holder.push(await floodOnce(holder));
  }
  const mb = (rate: number): string => `${(rate / 1024 / 1024).toFixed(1)} MiB/s`;
  console.log(`flood (${FLOOD_BYTES / 1024 / 1024} MiB through a pty, first byte → close, ${FLOOD_ROUNDS} rounds each)`);
  console.log(`  direct: ${rates.direct.map(mb).join(', ')}`);
  console.log(`  holder: ${rates.holder.map(mb).join(', ')}`);
  console.log(`  ratio holder/direct (median): ${(median(rates.holder) / median(rates.direct)).toFixed(2)}`);
}

function memoryOf(pid: number): { rssKiB: number; pssKiB: number; ussKiB: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rssKiB: field('Rss'), pssKiB: field('Pss'), ussKiB: field('Private_Clean') + field('Private_Dirty') };
}

async function memory(): Promise<void> {
  const procs: HolderProcess[] = [];
  for (let i = 0; i < IDLE_SESSIONS; i++) procs.push(await holder.spawn(options('/bin/sleep', ['1000'])));
  await sleep(500);
  const holderMem = procs.map((proc) => memoryOf(proc.record.holder.pid));
  const socket = '/tmp/corral-bench-tmux';
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  let tmuxLine = 'tmux: not available';
  try {
    tmux('new-session', '-d', '-x', '120', '-y', '40', 'sleep 1000');
    await sleep(300);
    const server = Number(tmux('display-message', '-p', '#{pid}').trim());
    const one = memoryOf(server);
    for (let i = 1; i < IDLE_SESSIONS; i++) tmux('new-session', '-d', '-x', '120', '-y', '40', 'sleep 1000');
    await sleep(300);
    const many = memoryOf(server);
    const perSession = (many.rssKiB - one.rssKiB) / (IDLE_SESSIONS - 1);
    tmuxLine = `tmux server with 1 session: RSS ${one.rssKiB} KiB, PSS ${one.pssKiB} KiB; with ${IDLE_SESSIONS}: RSS ${many.rssKiB} KiB (+${perSession.toFixed(0)} KiB per extra session)`;
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // the server was never started (no tmux): nothing to stop
    }
  }
  console.log(`memory (idle sessions running sleep)`);
  const mid = (pick: (m: { rssKiB: number; pssKiB: number; ussKiB: number }) => number): number => median(holderMem.map(pick));
  console.log(`  holder per session: RSS ${mid((m) => m.rssKiB)} KiB, PSS ${mid((m) => m.pssKiB)} KiB, USS ${mid((m) => m.ussKiB)} KiB (medians of ${IDLE_SESSIONS})`);
  console.log(`  ${tmuxLine}`);
  for (const proc of procs) {
    proc.signal('tree', 'SIGKILL');
    await new Promise<void>((resolve) => proc.onClosed(() => resolve()));
    await reap(proc.record.holder.pid);
  }
}

native.setChildSubreaper();
const which = process.argv.slice(2);
const all = which.length === 0;
console.log(`load average at start: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
try {
  if (all || which.includes('startup')) await startup();
  if (all || which.includes('memory')) await memory();
  if (all || which.includes('flood')) await flood();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
