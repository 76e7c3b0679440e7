// Helpers for holder tests: a temp data dir, a collector of a holder process's output with offset checks, waits,
// and reaping the holders that re-parent to the test process (it is made a child subreaper, like the daemon).

import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HolderProcess } from '../../src/engine/backends/HolderBackend.js';
import type { OutputChannel, ProcessStatus } from '../../src/engine/backends/ProcessBackend.js';
import { errnoCode, native } from '../../src/engine/process/nativeBinding.js';
import { childPids, readProcStat } from '../../src/engine/process/procfs.js';

/** Holders fork away from their spawner: as a subreaper the test process adopts them, and must reap them. */
export function becomeSubreaper(): void {
  native.setChildSubreaper();
}

export function tempDataDir(): { dataDir: string; dispose: () => void } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-holder-')));
  return { dataDir: base, dispose: () => rmSync(base, { recursive: true, force: true }) };
}

export async function waitUntil(what: string, check: () => boolean, limitMs = 10_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Everything one HolderProcess delivered, checked for continuity as it arrives. */
export class Collected {
  readonly chunks: Record<OutputChannel, Buffer[]> = { pty: [], stdout: [], stderr: [] };
  readonly next: Record<OutputChannel, number>;
  readonly discontinuities: string[] = [];
  exit: ProcessStatus | null = null;
  closed: ProcessStatus | null = null;

  constructor(from: Partial<Record<OutputChannel, number>> = {}) {
    this.next = { pty: 0, stdout: 0, stderr: 0, ...from };
  }

  attach(proc: HolderProcess): this {
    proc.onData(({ channel, data, offset }) => {
      if (offset !== this.next[channel]) this.discontinuities.push(`${channel}: got ${offset}, expected ${this.next[channel]}`);
      this.next[channel] += data.length;
      this.chunks[channel].push(data);
    });
    proc.onProcessExit((status) => (this.exit = status));
    proc.onClosed((status) => (this.closed = status));
    return this;
  }

  text(channel: OutputChannel = 'pty'): string {
    return Buffer.concat(this.chunks[channel]).toString('latin1');
  }
}

export function isGone(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

export function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Waits for `pid` (a holder adopted by the test process) to exit and reaps it. */
export async function reapExited(pid: number, limitMs = 10_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    try {
      if (native.waitpidNoHang(pid) !== null) return;
    } catch (error) {
      // ECHILD: not (or no longer) our child: someone else reaped it, or it never was ours.
      if (errnoCode(error) === 'ECHILD') return;
      throw error;
    }
    if (performance.now() > deadline) throw new Error(`process ${pid} did not exit`);
    await sleep(10);
  }
}

/** Descendants of the test process as pid:starttime:state:comm (tsx's esbuild service is one, from the start). */
export function ownTree(): string[] {
  const found: string[] = [];
  const queue = childPids(process.pid);
  const seen = new Set<number>();
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = readProcStat(pid);
    if (stat === undefined) continue;
    found.push(`${pid}:${stat.startTime}:${stat.state}:${stat.comm}`);
    queue.push(...childPids(pid));
  }
  return found;
}

/** The suite-level promise: nothing a test started is left running, no zombie left behind. */
export async function assertNothingLeft(baseline: readonly string[]): Promise<void> {
  const known = new Set(baseline.map((entry) => entry.split(':').slice(0, 2).join(':')));
  // tsx's esbuild service is the test runner's, not ours: it may start after the baseline (a lazily loaded module)
  // and linger as a zombie until Node's loader thread reaps it.
  const extra = (): string[] =>
    ownTree().filter((entry) => !known.has(entry.split(':').slice(0, 2).join(':')) && !entry.endsWith(':esbuild'));
  try {
    await waitUntil('an empty process tree', () => extra().length === 0, 5000);
  } catch (error) {
    throw new Error(`left behind: ${extra().join(', ')}`, { cause: error });
  }
}

/** Reaps zombie children of the test process that are not in `baseline` (orphans adopted after their holder died). */
export async function reapAdoptedOrphans(baseline: readonly string[], limitMs = 5000): Promise<void> {
  const known = new Set(baseline.map((entry) => Number(entry.split(':')[0])));
  await waitUntil('adopted orphans to exit', () => {
    let running = 0;
    for (const pid of childPids(process.pid)) {
      if (known.has(pid)) continue;
      if (readProcStat(pid)?.state === 'Z') native.waitpidNoHang(pid);
      else running += 1;
    }
    return running === 0;
  }, limitMs);
}
