// The front door's overhead in a fleet (issue 20), against a direct connection to the owning node in the same run:
// a real etcd and three real nodes (test/helpers/fleetHarness.ts); every measured session lives on node B, and each
// sample is taken once through node A (routed: REST proxied, WebSocket bridged) and once straight at B, alternating.
//   REST create p50       POST /api/v1/sessions {node: B} through A vs at B
//   keystroke p50         input frame → echoed output frame over the WebSocket (a `cat` session) through A vs at B
//   flood throughput      MB/s of a flood to one WebSocket client through A vs at B, from a pty session and from a
//                         pipe session (ratio: goal ≥ 0.8)
//   placement             POST /sessions through A with no placement, PLACE sessions: time and spread over nodes
//   dead node detection   kill -9 of node C until A lists it unreachable (lease TTL given below)
// Not part of the test suite and never pass/fail: the numbers depend on the machine and its load (printed with them).
// Run: node --import tsx bench/fleetBench.ts [floodMB=50] [place=300]

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/helpers/daemonHarness.js';
import { startFleet, waitFor, type Fleet } from '../test/helpers/fleetHarness.js';
import { TestSocket } from '../test/helpers/wsTestClient.js';
import type { NodesReply } from '../src/protocol/apiReplies.js';
import type { SessionInfo } from '../src/protocol/sessionTypes.js';

const FLOOD_MB = Number(process.argv[2] ?? 50);
const PLACE = Number(process.argv[3] ?? 300);
const CREATE_SAMPLES = 30;
const RTT_SAMPLES = 200;
const FLOOD_ROUNDS = 5;
const LEASE_TTL_SECONDS = 3;
const FLOOD = join(REPO_ROOT, 'test', 'helpers', 'fixtures', 'flood.mjs');

const p50 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function createOnB(fleet: Fleet, via: 'A' | 'B', body: Record<string, unknown>): Promise<SessionInfo> {
  const reply = await fleet.node(via).daemon.request<SessionInfo>('POST', '/api/v1/sessions', { ...body, node: 'B' });
  if (reply.status !== 201) throw new Error(`create answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

function socketUrl(fleet: Fleet, via: 'A' | 'B', id: string): string {
  return `ws://127.0.0.1:${fleet.node(via).port}/ws/sessions/${id}`;
}

async function main(): Promise<void> {
  const load = loadavg()[0];
  // The 1-minute load average through the run (others' work on the machine shows here too), every 5 s.
  const loads: number[] = [load ?? NaN];
  const sampler = setInterval(() => loads.push(loadavg()[0] ?? NaN), 5000).unref();
  const fleet = await startFleet(['A', 'B', 'C'], { leaseTtlSeconds: LEASE_TTL_SECONDS, pollMs: 500, extraArgs: { A: ['--max-sessions', '1000'], B: ['--max-sessions', '1000'], C: ['--max-sessions', '1000'] } });
  const auth = { authorization: `Bearer ${fleet.token}` };
  const results: Record<string, unknown> = { cpus: cpus().length, loadAtStart: load };
  try {
    await waitFor('every node up', async () => {
      const nodes = await fleet.node('A').daemon.request<NodesReply>('GET', '/api/v1/nodes');
      return nodes.body.nodes?.length === 3 && nodes.body.nodes.every((node) => node.state === 'up') ? true : undefined;
    });

    // REST create, alternating front door and direct.
    const create: Record<'A' | 'B', number[]> = { A: [], B: [] };
    const made: SessionInfo[] = [];
    for (let i = 0; i < CREATE_SAMPLES * 2; i++) {
      const via = i % 2 === 0 ? 'A' : 'B';
      const start = performance.now();
      made.push(await createOnB(fleet, via, { kind: 'pipe', command: ['sleep', '600'] }));
      create[via].push(performance.now() - start);
    }
    for (const session of made) await fleet.node('B').daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true&purge=true`);
    results.restCreateP50Ms = { front: p50(create.A), direct: p50(create.B), overheadMs: p50(create.A) - p50(create.B) };
    console.log(`REST create p50: through A ${p50(create.A).toFixed(2)} ms, at B ${p50(create.B).toFixed(2)} ms`);

    // Keystroke round trip over the WebSocket.
    const cat = await createOnB(fleet, 'A', { command: ['cat'] });
    const sockets = { A: await TestSocket.open(socketUrl(fleet, 'A', cat.id), auth), B: await TestSocket.open(socketUrl(fleet, 'B', cat.id), auth) };
    const rtt: Record<'A' | 'B', number[]> = { A: [], B: [] };
    for (let i = 0; i < RTT_SAMPLES * 2; i++) {
      const via = i % 2 === 0 ? 'A' : 'B';
      const socket = sockets[via];
      const before = socket.outputBytes;
      const start = performance.now();
      socket.send({ type: 'input', data: 'k' });
      // The pty echoes the key: one byte back (both sockets see it; each measures its own arrival).
      await socket.until(() => socket.outputBytes > before, 'the echo');
      rtt[via].push(performance.now() - start);
      // Both sockets got this echo; let the other one see it before the next sample.
      const other = sockets[via === 'A' ? 'B' : 'A'];
      await other.until(() => (other.nextOffset ?? 0) >= (socket.nextOffset ?? 0), 'the echo at the other socket');
    }
    for (const socket of Object.values(sockets)) await socket.close();
    results.keystrokeP50Ms = { front: p50(rtt.A), direct: p50(rtt.B), overheadMs: p50(rtt.A) - p50(rtt.B) };
    console.log(`keystroke round trip p50: through A ${p50(rtt.A).toFixed(3)} ms, at B ${p50(rtt.B).toFixed(3)} ms (goal: ≤ +0.3 ms)`);

    // Flood throughput to one client, from a pty session and from a pipe session (no line discipline: it floods
    // faster, so the bridge's own cost shows more).
    const bytes = FLOOD_MB * 1024 * 1024;
    const floods: Record<string, unknown> = {};
    for (const kind of ['pty', 'pipe'] as const) {
      const rate: Record<'A' | 'B', number[]> = { A: [], B: [] };
      for (let round = 0; round < FLOOD_ROUNDS * 2; round++) {
        const via = round % 2 === 0 ? 'A' : 'B';
        const flood = await createOnB(fleet, 'B', { kind, command: ['sh', '-c', `read go; exec ${process.execPath} ${FLOOD} ${bytes}`] });
        const socket = await TestSocket.open(socketUrl(fleet, via, flood.id), auth, { keepData: false });
        const start = performance.now();
        socket.send({ type: 'input', data: 'go\n' });
        await socket.until(() => socket.outputBytes >= bytes, 'the whole flood');
        rate[via].push(bytes / 1024 / 1024 / ((performance.now() - start) / 1000));
        await socket.close();
        await fleet.node('B').daemon.request('DELETE', `/api/v1/sessions/${flood.id}?force=true&purge=true`);
      }
      const ratio = p50(rate.A) / p50(rate.B);
      floods[kind] = { front: p50(rate.A), direct: p50(rate.B), ratio, rounds: rate };
      const rounds = (via: 'A' | 'B'): string => rate[via].map((r) => r.toFixed(1)).join(', ');
      console.log(`flood ${FLOOD_MB} MB (${kind}): through A ${p50(rate.A).toFixed(1)} MB/s [${rounds('A')}], at B ${p50(rate.B).toFixed(1)} MB/s [${rounds('B')}], ratio ${ratio.toFixed(2)} (goal: ≥ 0.8)`);
    }
    results.floodMBps = floods;

    // Placement of PLACE sessions through A.
    const placeStart = performance.now();
    const spread: Record<string, number> = {};
    for (let i = 0; i < PLACE; i++) {
      const reply = await fleet.node('A').daemon.request<SessionInfo>('POST', '/api/v1/sessions', { kind: 'pipe', command: ['sleep', '600'] });
      if (reply.status !== 201) throw new Error(`placement ${i}: ${reply.status} ${JSON.stringify(reply.body)}`);
      spread[reply.body.node ?? '?'] = (spread[reply.body.node ?? '?'] ?? 0) + 1;
    }
    const placeSeconds = (performance.now() - placeStart) / 1000;
    results.placement = { sessions: PLACE, seconds: placeSeconds, perSecond: PLACE / placeSeconds, spread };
    console.log(`placement: ${PLACE} sessions in ${placeSeconds.toFixed(1)} s (${(PLACE / placeSeconds).toFixed(1)}/s), spread ${JSON.stringify(spread)}`);

    // Dead node detection.
    await fleet.node('C').daemon.crash();
    const killedAt = performance.now();
    await waitFor('A sees C unreachable', async () => {
      const nodes = await fleet.node('A').daemon.request<NodesReply>('GET', '/api/v1/nodes');
      return nodes.body.nodes?.find((node) => node.name === 'C')?.state === 'unreachable' ? true : undefined;
    }, 60_000);
    const detectSeconds = (performance.now() - killedAt) / 1000;
    results.deadNodeDetection = { seconds: detectSeconds, leaseTtlSeconds: LEASE_TTL_SECONDS };
    console.log(`dead node detected after ${detectSeconds.toFixed(2)} s (lease TTL ${LEASE_TTL_SECONDS} s)`);
    await fleet.startNode('C');
  } finally {
    await fleet.stop();
  }
  clearInterval(sampler);
  loads.push(loadavg()[0] ?? NaN);
  results.loadDuringRun = { min: Math.min(...loads), max: Math.max(...loads), end: loads.at(-1) };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'fleet.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`load average (1 min) at start ${load?.toFixed(2)}, during the run ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}, ${cpus().length} CPUs; bench/results/fleet.json`);
}

await main();
