// Claude sessions under load, measured against the real CLI and the fake API (not part of the test suite):
//  1. hook transport cost: the curl and the node hook command, run as Claude runs them (sh -c, JSON on stdin);
//  2. state detection latency: hook arrival → state event, and last output byte → screen-decided state event;
//  3. engine CPU (screen tracking + detection) per idle and per busy Claude session;
//  4. N Claude sessions at once (default 20): time to ready, one prompt each, clean exit.
// Run: node --import tsx bench/claudeBench.ts [sessions=20]

import { execFile } from 'node:child_process';
import { mkdirSync, realpathSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEngine } from '../test/helpers/engineHarness.js';
import { startFakeAnthropic } from '../test/helpers/fakeAnthropic.js';
import { REPO_ROOT } from '../test/helpers/daemonHarness.js';
import { HookServer, newHookSecret } from '../src/engine/agent/HookServer.js';
import { findInPath, hookCommand, HOOK_ENV } from '../src/engine/agent/hookCommand.js';
import type { Session } from '../src/engine/Session.js';

const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude');
const SESSIONS = Number(process.argv[2] ?? 20);
const HOOK_RUNS = 30;
const CPU_WINDOW_MS = 10_000;

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
const fmt = (values: number[]): string => `n=${values.length} p50=${pct(values, 50).toFixed(1)} ms p99=${pct(values, 99).toFixed(1)} ms`;

async function hookTransport(): Promise<void> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'corral-bench-hooks-')));
  const server = new HookServer(dir);
  const socket = await server.start();
  const id = 's_BENCHBENCHBENCHBENCH00';
  const secret = newHookSecret();
  let got = 0;
  server.register(id, secret, () => got++);
  const payload = JSON.stringify({ hook_event_name: 'Stop', last_assistant_message: 'x'.repeat(200) });
  const env = { ...process.env, [HOOK_ENV.socket]: socket, [HOOK_ENV.secret]: secret, [HOOK_ENV.session]: id };
  for (const kind of ['curl', 'node'] as const) {
    const curl = kind === 'curl' ? findInPath('curl', process.env.PATH ?? '') : null;
    if (kind === 'curl' && curl === null) continue;
    const command = hookCommand({ curl, node: process.execPath, scriptDir: dir });
    const times: number[] = [];
    for (let i = 0; i < HOOK_RUNS; i++) {
      const t = performance.now();
      const child = execFile('/bin/sh', ['-c', command], { env });
      child.stdin?.end(payload);
      await new Promise((resolve) => child.on('exit', resolve));
      times.push(performance.now() - t);
    }
    console.log(`hook command (${kind}) run to completion: ${fmt(times)}`);
  }
  console.log(`hook reports delivered: ${got}/${HOOK_RUNS * 2}`);
  await server.dispose();
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await hookTransport();
  const fake = await startFakeAnthropic();
  const engine = await startEngine({ maxLiveSessions: SESSIONS + 5, graces: { politeMs: 3000, interruptMs: 1000, termMs: 1000 } });
  const hookLatency: number[] = [];
  const screenLatency: number[] = [];
  const sessions: Session[] = [];
  const t0 = performance.now();
  for (let i = 0; i < SESSIONS; i++) {
    const cwd = join(engine.root, `p${i}`);
    mkdirSync(cwd);
    const { session } = await engine.manager.create({
      profile: 'claude',
      command: [CLAUDE],
      cwd,
      env: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' },
      agent: { authToken: `sk-ant-bench-${i}-0123456789abcdefghij`, isolatedHome: true, preAnswer: true },
    });
    let lastOutput = performance.now();
    session.output.onData(() => {
      lastOutput = performance.now();
    });
    session.onStateChange((event) => {
      const now = performance.now();
      const driver = session.driver;
      if (event.source === 'hook' && driver.kind === 'agent') hookLatency.push(now - driver.detector.insight.lastDecisionAt);
      if (event.source === 'screen') screenLatency.push(now - lastOutput);
    });
    sessions.push(session);
  }
  await Promise.all(sessions.map((s) => s.waitFor({ states: ['ready'] }, 120_000)));
  console.log(`${SESSIONS} sessions ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${sessions.filter((s) => s.state === 'ready').length} ready)`);

  let cpu = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, CPU_WINDOW_MS));
  let used = process.cpuUsage(cpu);
  console.log(`engine CPU, ${SESSIONS} idle sessions: ${((used.user + used.system) / 1000 / CPU_WINDOW_MS / SESSIONS * 100).toFixed(3)}% of a core per session`);

  const t1 = performance.now();
  cpu = process.cpuUsage();
  const replies = await Promise.all(sessions.map((s, i) => engine.manager.agents.prompt(s, { text: `slow 10: reply ${i}`, timeoutMs: 120_000 })));
  used = process.cpuUsage(cpu);
  const busyMs = performance.now() - t1;
  const ok = replies.filter((r, i) => r.reply === `echo: reply ${i}`).length;
  console.log(`${SESSIONS} concurrent 10 s turns: ${ok}/${SESSIONS} correct replies in ${(busyMs / 1000).toFixed(1)} s`);
  console.log(`engine CPU, busy sessions (spinner, streaming): ${((used.user + used.system) / 1000 / busyMs / SESSIONS * 100).toFixed(2)}% of a core per session`);
  console.log(`state event after a hook report arrives: ${fmt(hookLatency)}`);
  console.log(`state event after the last output byte (screen-decided): ${fmt(screenLatency)}`);
  const t2 = performance.now();
  const pids = sessions.map((s) => s.pid);
  await Promise.all(sessions.map((s) => engine.manager.terminate(s.id)));
  const alive = pids.filter((pid) => {
    try {
      if (pid !== null) process.kill(pid, 0);
      return pid !== null;
    } catch (error) {
      // ESRCH: gone, as it should be.
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw error;
    }
  });
  console.log(`ended ${SESSIONS} sessions in ${((performance.now() - t2) / 1000).toFixed(1)} s; claude processes left: ${alive.length}`);
  await engine.close();
  await fake.close();
}

await main();
