// Session sandbox cost (issue 16), both sides measured in the same run on one daemon (holder backend): spawn → first
// prompt of a shell (`bash --norc -i` until its `$ ` prompt) with `sandbox: {}` against `sandbox: "none"`, and
// spawn → `ready` of the real Claude CLI against the fake Anthropic API, sandboxed (its profile's default) against
// opted out. Samples are interleaved so drifting load affects both sides alike. Goal: p50 ratio <= 1.5.
// Not part of the test suite and never a pass/fail gate: the numbers depend on the machine and its load.
// Usage: node --import tsx bench/sandboxBench.ts [shell] [claude]   (default: both)

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../test/helpers/daemonHarness.js';
import { startFakeAnthropic, type FakeAnthropic } from '../test/helpers/fakeAnthropic.js';

const SHELL_SAMPLES = Number(process.env.BENCH_STARTUP_SAMPLES ?? 20);
const CLAUDE_SAMPLES = Number(process.env.BENCH_CLAUDE_SAMPLES ?? 4);
const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude');
const WAIT_MS = 60_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function timeToState(daemon: DaemonHandle, body: Record<string, unknown>, until: Record<string, unknown>): Promise<number> {
  const started = performance.now();
  const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', body);
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const waited = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${created.body.id}/wait`, { ...until, timeoutMs: WAIT_MS });
  const ms = performance.now() - started;
  if (!waited.body.matched) throw new Error(`session ${created.body.id} never reached ${JSON.stringify(until)}`);
  await daemon.request('DELETE', `/api/v1/sessions/${created.body.id}?force=true`);
  return ms;
}

async function pairs(label: string, samples: number, run: (sandboxed: boolean) => Promise<number>): Promise<Record<string, number>> {
  const off: number[] = [];
  const on: number[] = [];
  // The first pair warms both sides (page cache, the daemon's JIT) and is not counted.
  await run(false);
  await run(true);
  for (let i = 0; i < samples; i++) {
    off.push(await run(false));
    on.push(await run(true));
  }
  const result = { offP50Ms: median(off), onP50Ms: median(on), ratio: median(on) / median(off), samples };
  console.log(`${label}: sandbox off p50 ${result.offP50Ms.toFixed(1)} ms, on p50 ${result.onP50Ms.toFixed(1)} ms, ratio ${result.ratio.toFixed(2)} (goal <= 1.5)`);
  return result;
}

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  const wanted = (name: string): boolean => which.length === 0 || which.includes(name);
  const results: Record<string, unknown> = { cpus: cpus().length, loadavg: loadavg() };
  const daemon = await startDaemon();
  let fake: FakeAnthropic | undefined;
  try {
    if (wanted('shell')) {
      results.shell = await pairs('shell spawn → prompt', SHELL_SAMPLES, (sandboxed) =>
        timeToState(
          daemon,
          { command: ['/bin/bash', '--norc', '-i'], env: { PS1: '$ ' }, sandbox: sandboxed ? {} : 'none' },
          { pattern: '\\$ $', since: 0 },
        ),
      );
    }
    if (wanted('claude')) {
      const api = await startFakeAnthropic();
      fake = api;
      let n = 0;
      results.claude = await pairs('claude spawn → ready', CLAUDE_SAMPLES, (sandboxed) => {
        const cwd = join(daemon.root, `claude-${n++}`);
        mkdirSync(cwd);
        return timeToState(
          daemon,
          {
            profile: 'claude',
            command: [CLAUDE],
            cwd,
            env: { ANTHROPIC_BASE_URL: api.url, CLAUDE_CODE_MAX_RETRIES: '0', LANG: 'C.UTF-8' },
            agent: { authToken: 'sk-ant-corral-bench-0123456789abcdefghijkl', isolatedHome: true, preAnswer: true },
            ...(sandboxed ? {} : { sandbox: 'none' }),
          },
          { states: ['ready'] },
        );
      });
    }
  } finally {
    await daemon.stop();
    daemon.cleanup();
    await fake?.close();
  }
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'sandbox.json'), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
