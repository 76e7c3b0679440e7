// Holders vs the direct backend (issue 14), both measured in the same run (two daemons, `corral serve
// --session-host holder` and `--session-host daemon`, interleaved round by round): flood throughput to a WebSocket
// client, create → first prompt, keystroke round trip, churn; then memory per idle session (holder + daemon share)
// next to tmux's. Ratios are holder/direct speed (1.0 = as fast; the bar is 0.9).
// Not part of the test suite and never a pass/fail gate. Usage: node --import tsx bench/durableBench.ts [flood MB]

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids } from '../src/engine/process/procfs.js';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../test/helpers/daemonHarness.js';
import { TestSocket } from '../test/helpers/wsTestClient.js';

/** A spawned daemon with what the measurements need. */
interface Bench {
  handle: DaemonHandle;
  root: string;
  wsUrl: string;
  auth: Record<string, string>;
  request: DaemonHandle['request'];
}

async function spawnDaemon(host: 'holder' | 'daemon'): Promise<Bench> {
  const handle = await startDaemon({ args: ['--session-host', host, '--log-level', 'warn'], useBin: process.env.BENCH_USE_BIN === '1' });
  return {
    handle,
    root: handle.root,
    wsUrl: handle.url.replace(/^http/, 'ws'),
    auth: { authorization: `Bearer ${handle.token}` },
    request: (method, path, body, headers) => handle.request(method, path, body, headers),
  };
}

const FLOOD = join(REPO_ROOT, 'test', 'helpers', 'fixtures', 'flood.mjs');
const MB = Number(process.argv[2] ?? 50);
const FLOOD_ROUNDS = Number(process.env.FLOOD_ROUNDS ?? 3);
const PROMPT_SAMPLES = Number(process.env.PROMPT_SAMPLES ?? 20);
const RTT_ROUNDS = 200;
const CHURN_SESSIONS = Number(process.env.CHURN_SESSIONS ?? 200);
const CHURN_CONCURRENCY = 20;
const IDLE_SESSIONS = 20;
/** DURABLE_PARTS=churn,memory runs only those parts (flood, prompt, rtt, churn, memory); all by default. */
const PARTS = new Set((process.env.DURABLE_PARTS ?? 'flood,prompt,rtt,churn,memory').split(','));
const CHURN_ROUNDS = Number(process.env.CHURN_ROUNDS ?? 2);

type Side = 'direct' | 'holder';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function flood(d: Bench): Promise<number> {
  const start = performance.now();
  const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['node', FLOOD, String(MB * 1024 * 1024)], cwd: d.root });
  const client = await TestSocket.open(`${d.wsUrl}/ws/sessions/${created.body.id}?since=0`, d.auth, { keepData: false });
  await client.closed;
  if (client.outputBytes !== MB * 1024 * 1024) throw new Error(`got ${client.outputBytes} bytes`);
  return MB / ((performance.now() - start) / 1000);
}

async function firstPrompt(d: Bench): Promise<number> {
  const start = performance.now();
  const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/bash', '--norc', '-i'], cwd: d.root });
  const wait = await d.request<{ matched: boolean }>('POST', `/api/v1/sessions/${created.body.id}/wait`, { pattern: '[$#] $', since: 0, timeoutMs: 30_000 });
  const ms = performance.now() - start;
  if (!wait.body.matched) throw new Error(`no prompt: ${JSON.stringify(wait.body).slice(0, 300)}`);
  await d.request('DELETE', `/api/v1/sessions/${created.body.id}?force=true`);
  return ms;
}

async function roundTrips(d: Bench): Promise<number[]> {
  const cat = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['cat'], cwd: d.root });
  const client = await TestSocket.open(`${d.wsUrl}/ws/sessions/${cat.body.id}`, d.auth, { keepData: false });
  const times: number[] = [];
  for (let i = 0; i < RTT_ROUNDS; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const onMessage = (data: Buffer, isBinary: boolean): void => {
        if (isBinary && data.length > 8 && data.subarray(8).includes(key)) {
          client.ws.off('message', onMessage);
          resolve();
        }
      };
      client.ws.on('message', onMessage);
      client.send({ type: 'input', data: key });
    });
    times.push(performance.now() - start);
  }
  await client.close();
  await d.request('DELETE', `/api/v1/sessions/${cat.body.id}?force=true`);
  return times;
}

/** CPU ms the daemon used, its own and its reaped children's (holders, or the direct backend's programs). */
function cpuMs(pid: number): { own: number; children: number } {
  // Fields after the command's closing parenthesis: utime, stime, cutime, cstime are fields 14–17 of the line.
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? [];
  const ticks = (i: number): number => (Number(fields[i - 3]) * 1000) / CLOCK_TICKS;
  return { own: ticks(14) + ticks(15), children: ticks(16) + ticks(17) };
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Wall-clock churn rate, and CPU ms per session (daemon and its children): the latter barely moves with load. */
async function churn(d: Bench): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < CHURN_SESSIONS; i += CHURN_CONCURRENCY) {
    await Promise.all(
      Array.from({ length: CHURN_CONCURRENCY }, async () => {
        const created = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/true'], cwd: d.root });
        await d.request('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: 30_000 });
      }),
    );
  }
  return CHURN_SESSIONS / ((performance.now() - start) / 1000);
}

function smaps(pid: number): { rssKiB: number; pssKiB: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rssKiB: field('Rss'), pssKiB: field('Pss') };
}

async function memory(holder: Bench): Promise<void> {
  const daemonPid = holder.handle.pid;
  const before = new Set(childPids(daemonPid));
  const rssBefore = smaps(daemonPid).rssKiB;
  const ids: string[] = [];
  for (let i = 0; i < IDLE_SESSIONS; i++) {
    const created = await holder.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/sh', '-c', 'echo idle; exec sleep 1000'], cwd: holder.root });
    ids.push(created.body.id);
  }
  await sleep(1500);
  const daemonShareKiB = (smaps(daemonPid).rssKiB - rssBefore) / IDLE_SESSIONS;
  const holders = childPids(daemonPid).filter((pid) => !before.has(pid));
  const mem = holders.map(smaps);
  let tmuxLine = 'tmux: not available';
  const socket = '/tmp/corral-durable-bench-tmux';
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-S', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  try {
    tmux('new-session', '-d', '-x', '120', '-y', '40', 'sleep 1000');
    await sleep(300);
    const server = Number(tmux('display-message', '-p', '#{pid}').trim());
    const one = smaps(server);
    for (let i = 1; i < IDLE_SESSIONS; i++) tmux('new-session', '-d', '-x', '120', '-y', '40', 'sleep 1000');
    await sleep(300);
    const many = smaps(server);
    tmuxLine = `tmux: server RSS ${one.rssKiB} KiB with 1 session, +${((many.rssKiB - one.rssKiB) / (IDLE_SESSIONS - 1)).toFixed(0)} KiB RSS / +${((many.pssKiB - one.pssKiB) / (IDLE_SESSIONS - 1)).toFixed(0)} KiB PSS per extra session`;
  } catch (error) {
    tmuxLine = `tmux: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    try {
      tmux('kill-server');
    } catch (error) {
      // no server was started (no tmux): nothing to stop
      void error;
    }
  }
  console.log(`memory, ${IDLE_SESSIONS} idle sessions:`);
  console.log(
    `  holder per session: RSS ${median(mem.map((m) => m.rssKiB))} KiB, PSS ${median(mem.map((m) => m.pssKiB))} KiB (medians); ` +
      `daemon share ~${daemonShareKiB.toFixed(0)} KiB RSS per session`,
  );
  console.log(`  ${tmuxLine}`);
  for (const id of ids) await holder.request('DELETE', `/api/v1/sessions/${id}?force=true`);
}

console.log(`load average at start: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
const daemons: Record<Side, Bench> = { direct: await spawnDaemon('daemon'), holder: await spawnDaemon('holder') };
const ratio = (holder: number, direct: number): string => (holder / direct).toFixed(2);
try {
  if (PARTS.has('flood')) {
    const floods: Record<Side, number[]> = { direct: [], holder: [] };
    await flood(daemons.direct);
    await flood(daemons.holder);
    for (let i = 0; i < FLOOD_ROUNDS; i++) {
      for (const side of (i % 2 === 0 ? ['direct', 'holder'] : ['holder', 'direct']) as Side[]) floods[side].push(await flood(daemons[side]));
    }
    console.log(
      `flood ${MB} MiB to a WebSocket client (MiB/s): direct ${floods.direct.map((n) => n.toFixed(0)).join(', ')}; ` +
        `holder ${floods.holder.map((n) => n.toFixed(0)).join(', ')}; ratio holder/direct (medians) ${ratio(median(floods.holder), median(floods.direct))}`,
    );
  }
  if (PARTS.has('prompt')) {
    const prompts: Record<Side, number[]> = { direct: [], holder: [] };
    await firstPrompt(daemons.direct);
    await firstPrompt(daemons.holder);
    for (let i = 0; i < PROMPT_SAMPLES; i++) for (const side of ['direct', 'holder'] as Side[]) prompts[side].push(await firstPrompt(daemons[side]));
    console.log(
      `create → first prompt (bash --norc -i, ${PROMPT_SAMPLES} each): direct p50 ${median(prompts.direct).toFixed(1)} ms, ` +
        `holder p50 ${median(prompts.holder).toFixed(1)} ms; speed ratio holder/direct ${ratio(median(prompts.direct), median(prompts.holder))}`,
    );
  }
  if (PARTS.has('rtt')) {
    await roundTrips(daemons.direct);
    await roundTrips(daemons.holder);
    const rtt: Record<Side, number[]> = { direct: await roundTrips(daemons.direct), holder: await roundTrips(daemons.holder) };
    console.log(
      `keystroke round trip over the WebSocket (${RTT_ROUNDS} keys): direct p50 ${percentile(rtt.direct, 50).toFixed(2)} / p99 ${percentile(rtt.direct, 99).toFixed(2)} ms, ` +
        `holder p50 ${percentile(rtt.holder, 50).toFixed(2)} / p99 ${percentile(rtt.holder, 99).toFixed(2)} ms; speed ratio holder/direct (p50) ${ratio(percentile(rtt.direct, 50), percentile(rtt.holder, 50))}`,
    );
  }
  if (PARTS.has('churn')) {
    const churns: Record<Side, number[]> = { direct: [], holder: [] };
    const cpu: Record<Side, { own: number; children: number }> = { direct: { own: 0, children: 0 }, holder: { own: 0, children: 0 } };
    for (let i = 0; i < CHURN_ROUNDS; i++) {
      for (const side of (i % 2 === 0 ? ['direct', 'holder'] : ['holder', 'direct']) as Side[]) {
        const before = cpuMs(daemons[side].handle.pid);
        churns[side].push(await churn(daemons[side]));
        await sleep(200); // the last holders exit and are reaped
        const after = cpuMs(daemons[side].handle.pid);
        cpu[side].own += after.own - before.own;
        cpu[side].children += after.children - before.children;
      }
    }
    const perSession = (side: Side): string => {
      const n = CHURN_ROUNDS * CHURN_SESSIONS;
      return `${((cpu[side].own + cpu[side].children) / n).toFixed(2)} (daemon ${(cpu[side].own / n).toFixed(2)} + children ${(cpu[side].children / n).toFixed(2)})`;
    };
    console.log(
      `churn, ${CHURN_SESSIONS} pty sessions of /bin/true ${CHURN_CONCURRENCY} at a time (sessions/s): direct ${churns.direct.map((n) => n.toFixed(0)).join(', ')}; ` +
        `holder ${churns.holder.map((n) => n.toFixed(0)).join(', ')}; ratio holder/direct (medians) ${ratio(median(churns.holder), median(churns.direct))}`,
    );
    console.log(
      `  CPU ms per session: direct ${perSession('direct')}; holder ${perSession('holder')}; ` +
        `speed ratio by CPU holder/direct ${ratio(cpu.direct.own + cpu.direct.children, cpu.holder.own + cpu.holder.children)}`,
    );
  }
  if (PARTS.has('memory')) await memory(daemons.holder);
} finally {
  for (const side of ['direct', 'holder'] as Side[]) {
    await daemons[side].handle.stop('end-sessions');
    daemons[side].handle.cleanup();
  }
}
