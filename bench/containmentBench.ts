// Cgroup containment on against off (issue 16), both measured in the same run: two daemons, `corral serve
// --containment auto` (a cgroup per session: cgroup-v1 on the machines here) and `--containment sweep`, interleaved
// round by round. Spawn → first prompt of `bash --norc -i` (p50/p99) and churn of `/bin/true` sessions; goals:
// prompt p50 ≤ 1.5× and churn ≥ 0.7× of the sweep-only daemon. Same session host for both (`BENCH_SESSION_HOST`,
// default holder). Not part of the test suite and never a pass/fail gate.
// Usage: node --import tsx bench/containmentBench.ts

import { loadavg } from 'node:os';
import { startDaemon, type DaemonHandle } from '../test/helpers/daemonHarness.js';

const PROMPT_SAMPLES = Number(process.env.PROMPT_SAMPLES ?? 20);
const CHURN_SESSIONS = Number(process.env.CHURN_SESSIONS ?? 200);
const CHURN_CONCURRENCY = 20;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SESSION_HOST = process.env.BENCH_SESSION_HOST ?? 'holder';

type Side = 'cgroup' | 'sweep';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function firstPrompt(d: DaemonHandle): Promise<number> {
  const start = performance.now();
  const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/bash', '--norc', '-i'], cwd: d.root });
  const wait = await d.request<{ matched: boolean }>('POST', `/api/v1/sessions/${created.body.id}/wait`, { pattern: '[$#] $', since: 0, timeoutMs: 30_000 });
  const ms = performance.now() - start;
  if (!wait.body.matched) throw new Error(`no prompt: ${JSON.stringify(wait.body).slice(0, 300)}`);
  await d.request('DELETE', `/api/v1/sessions/${created.body.id}?force=true`);
  return ms;
}

async function churn(d: DaemonHandle): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < CHURN_SESSIONS; i += CHURN_CONCURRENCY) {
    await Promise.all(
      Array.from({ length: CHURN_CONCURRENCY }, async () => {
        const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/true'], cwd: d.root });
        if (created.status !== 201 && created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
        await d.request('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: 30_000 });
      }),
    );
  }
  return CHURN_SESSIONS / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const load = loadavg()[0]?.toFixed(2);
  const daemons: Record<Side, DaemonHandle> = {
    cgroup: await startDaemon({ args: ['--session-host', SESSION_HOST, '--containment', 'auto', '--log-level', 'warn'], useBin: process.env.BENCH_USE_BIN === '1' }),
    sweep: await startDaemon({ args: ['--session-host', SESSION_HOST, '--containment', 'sweep', '--log-level', 'warn'], useBin: process.env.BENCH_USE_BIN === '1' }),
  };
  try {
    const probe = await daemons.cgroup.request<{ id: string; containment?: string }>('POST', '/api/v1/sessions', { command: ['/bin/true'], cwd: daemons.cgroup.root });
    console.log(`session host ${SESSION_HOST}; containment of the cgroup daemon: ${probe.body.containment}; load ${load}`);
    const prompts: Record<Side, number[]> = { cgroup: [], sweep: [] };
    const rates: Record<Side, number[]> = { cgroup: [], sweep: [] };
    // Warm-up, both sides.
    for (const side of ['sweep', 'cgroup'] as const) await firstPrompt(daemons[side]);
    for (let i = 0; i < PROMPT_SAMPLES; i++) {
      for (const side of i % 2 === 0 ? (['sweep', 'cgroup'] as const) : (['cgroup', 'sweep'] as const)) prompts[side].push(await firstPrompt(daemons[side]));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? (['sweep', 'cgroup'] as const) : (['cgroup', 'sweep'] as const)) rates[side].push(await churn(daemons[side]));
    }
    const p50 = (side: Side): number => percentile(prompts[side], 50);
    const p99 = (side: Side): number => percentile(prompts[side], 99);
    const churnMedian = (side: Side): number => percentile(rates[side], 50);
    console.log(`spawn → first prompt p50: sweep ${p50('sweep').toFixed(1)} ms, cgroup ${p50('cgroup').toFixed(1)} ms, ratio ${(p50('cgroup') / p50('sweep')).toFixed(2)}× (goal ≤ 1.5×)`);
    console.log(`spawn → first prompt p99: sweep ${p99('sweep').toFixed(1)} ms, cgroup ${p99('cgroup').toFixed(1)} ms, ratio ${(p99('cgroup') / p99('sweep')).toFixed(2)}×`);
    console.log(
      `churn (${CHURN_SESSIONS} × /bin/true, ${CHURN_CONCURRENCY} at a time, median of ${ROUNDS}): sweep ${churnMedian('sweep').toFixed(0)}/s, cgroup ${churnMedian('cgroup').toFixed(0)}/s, ratio ${(churnMedian('cgroup') / churnMedian('sweep')).toFixed(2)}× (goal ≥ 0.7×)`,
    );
    console.log(`load at end ${loadavg()[0]?.toFixed(2)}`);
  } finally {
    await daemons.cgroup.stop();
    await daemons.sweep.stop();
    daemons.cgroup.cleanup();
    daemons.sweep.cleanup();
  }
}

await main();
