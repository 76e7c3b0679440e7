// Benchmark: exec("echo x") round trip in a bash session with shell integration (engine in-process), against raw
// node-pty writing the same command to the same kind of bash and waiting for its echoed output, in the same run.
// Run: node --import tsx bench/execShell.ts [iterations]. Prints p50/p99 in ms; not part of the test suite.

import { performance } from 'node:perf_hooks';
import pty from 'node-pty';
import { startEngine } from '../test/support/engineHarness.js';
import { shellExec } from '../src/engine/shell/ShellExec.js';

/** Enough samples for a stable p99 in a few seconds. */
const ITERATIONS = Number(process.argv[2] ?? 2000);
const WARMUP = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${name.padEnd(28)} p50 ${percentile(sorted, 50).toFixed(3)} ms   p99 ${percentile(sorted, 99).toFixed(3)} ms   n=${samples.length}`;
}

async function rawPty(): Promise<number[]> {
  const term = pty.spawn('/bin/bash', ['--norc', '-i'], { cols: 120, rows: 40, env: { PATH: process.env.PATH ?? '', PS1: '$ ', TERM: 'xterm-256color' } });
  // Prompts are counted over the whole stream, so a chunk boundary can never let one round end on another's bytes.
  let pending = '';
  let prompts = 0;
  let want = 0;
  let waiter: (() => void) | null = null;
  term.onData((d) => {
    pending += d;
    for (let at = pending.indexOf('$ '); at >= 0; at = pending.indexOf('$ ')) {
      prompts++;
      pending = pending.slice(at + 2);
    }
    if (waiter !== null && prompts >= want) {
      const w = waiter;
      waiter = null;
      w();
    }
  });
  const untilPrompts = (n: number): Promise<void> =>
    new Promise((resolve) => {
      want = n;
      if (prompts >= n) resolve();
      else waiter = resolve;
    });
  await untilPrompts(1);
  // bash may redraw its first prompt: let start-up settle so every round waits for its own prompt.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS + WARMUP; i++) {
    const t0 = performance.now();
    term.write('echo x\r');
    // The echo of the command, its output line, then the next prompt.
    await untilPrompts(prompts + 1);
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  term.kill();
  return samples;
}

async function corralExec(): Promise<number[]> {
  const engine = await startEngine();
  try {
    const { session } = engine.manager.create({ profile: 'shell', command: ['/bin/bash', '-i'] });
    await session.waitFor({ states: ['ready'] }, 10_000);
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS + WARMUP; i++) {
      const t0 = performance.now();
      const result = await shellExec(session, engine.manager.history, { command: 'echo x', timeoutMs: 10_000 });
      if (result.output !== 'x\n') throw new Error(`unexpected output ${JSON.stringify(result)}`);
      if (i >= WARMUP) samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    await engine.close();
  }
}

const raw = await rawPty();
const corral = await corralExec();
console.log(summary('raw node-pty (echo x)', raw));
console.log(summary('corral shellExec (echo x)', corral));
