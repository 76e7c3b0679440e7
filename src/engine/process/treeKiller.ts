// Ends a session's whole process tree by escalation (polite exit → SIGINT → SIGTERM → SIGKILL → sweep), PRODUCT §1.6.
// With a session cgroup, the cgroup's members are the session's processes too (whatever they did to their
// environment or parentage), and the SIGKILL step kills the whole cgroup at once before the sweep looks for more.
// Must never signal a process it cannot prove belongs to the session (pid + start time, or cgroup membership), and
// never stop early while a session process is still alive, short of its bounded sweep.
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, isDeadState, type ProcessIdentity } from './ProcessIdentity.js';
import {
  findSessionProcesses,
  identitiesOf,
  mergeIdentities,
  type SessionMarker,
} from './processTree.js';
import { readProcStat, type ProcStat } from './procfs.js';
import type { SessionCgroup } from './cgroups/SessionCgroup.js';
import { signalGroup, signalProcess } from './signals.js';

/** How often a grace period re-checks whether the tree is gone: short enough to add little latency, one /proc scan each. */
const POLL_INTERVAL_MS = 25;
/**
 * After SIGKILL to the group, how long to let the kernel tear those processes down before sweeping the rest. Ends
 * early once all are gone; it only runs out when something escaped the group, and then it is the sweep's head start.
 */
const KILL_SETTLE_MS = 500;
/** Sweep rounds: a process forking as fast as we kill still loses within this many rounds (fork bombs hit rlimits). */
const SWEEP_MAX_ROUNDS = 50;
/** Pause between sweep rounds: lets SIGKILLed processes finish exiting so they are not counted twice. */
const SWEEP_INTERVAL_MS = 20;

export interface TreeKillResult {
  /** True when SIGTERM or SIGKILL had to be used. */
  forced: boolean;
  /** The last signal actually delivered to some process, or null when none was needed. */
  lastSignal: string | null;
  /** Processes that the final SIGKILL sweep had to kill one by one (escaped the group). */
  sweptProcesses: number;
  /** Session processes still alive at the end (0 unless something resisted SIGKILL, e.g. stuck in D state). */
  remaining: number;
}

export interface TreeTarget {
  root: ProcessIdentity;
  /** The session's process group (the root is usually its leader), or null when it has none of its own. */
  pgid: number | null;
  marker?: SessionMarker;
  known?: ProcessIdentity[];
  /** See FindSessionOptions: other sessions' live main processes, never this session's (the root aside). */
  notOurs?: ReadonlySet<number>;
  /** See FindSessionOptions: 'system' after a crash, when the old sessions are not our descendants. */
  scope?: 'descendants' | 'system';
  /** See FindSessionOptions: the session's holder, whose children are the session's but which is never signalled. */
  host?: ProcessIdentity;
  /** The session's own cgroup: its members are the session's, and the SIGKILL step kills all of it at once. */
  cgroup?: SessionCgroup;
  /** Aborting skips the remaining grace periods and goes straight to SIGKILL and the sweep. */
  signal?: AbortSignal;
}

export interface TerminateTreeOptions extends TreeTarget {
  /** The profile's polite exit (e.g. writes "/exit"); the root gets politeGraceMs to end after it. */
  politeExit?: () => void;
  politeGraceMs: number;
  interruptGraceMs: number;
  termGraceMs: number;
}

export interface SweepOrphansOptions extends TreeTarget {
  /** Grace after SIGHUP (what a closed terminal sends) before SIGTERM. */
  hangupGraceMs: number;
  termGraceMs: number;
}

/** Tracks one termination: re-scans the tree, remembers every process ever seen, records what was sent. */
class Escalation {
  private known: ProcessIdentity[];
  forced = false;
  lastSignal: string | null = null;
  sweptProcesses = 0;
  /** Live processes found by the latest scan, and whether a signal went out since (then it may be stale). */
  private lastScanCount = -1;
  private signalledSinceScan = true;

  constructor(private readonly target: TreeTarget) {
    this.known = target.known ?? [];
  }

  /** Live session processes now; each one seen is remembered, so a child re-parented later stays ours. */
  scan(): ProcStat[] {
    const { root, marker, notOurs, scope, host } = this.target;
    const procs = withCgroupMembers(findSessionProcesses({ root, marker, known: this.known, notOurs, scope, host }), this.target.cgroup);
    this.known = mergeIdentities(this.known, identitiesOf(procs));
    this.lastScanCount = procs.length;
    this.signalledSinceScan = false;
    return procs;
  }

  get aborted(): boolean {
    return this.target.signal?.aborted === true;
  }

  private record(signal: NodeJS.Signals): void {
    this.signalledSinceScan = true;
    this.lastSignal = signal;
    if (signal === 'SIGTERM' || signal === 'SIGKILL') this.forced = true;
  }

  /** Signals the session's group, anchored on processes known to be in it. */
  signalGroup(signal: NodeJS.Signals, procs: readonly ProcStat[]): boolean {
    const pgid = this.target.pgid;
    if (pgid === null) return false;
    const members = [this.target.root, ...identitiesOf(procs.filter((stat) => stat.pgid === pgid))];
    const sent = signalGroup(pgid, signal, members) === 'sent';
    if (sent) this.record(signal);
    return sent;
  }

  /** Signals each process individually (reaches those that left the group with setsid/setpgid). */
  signalEach(signal: NodeJS.Signals, procs: readonly ProcStat[]): number {
    let sent = 0;
    for (const stat of procs) {
      if (signalProcess({ pid: stat.pid, startTime: stat.startTime }, signal) === 'sent') sent += 1;
    }
    if (sent > 0) this.record(signal);
    return sent;
  }

  /** Signals the group and then each process (those that left it), and wakes stopped ones to act on it. */
  signalTree(signal: NodeJS.Signals, procs: readonly ProcStat[]): void {
    this.signalGroup(signal, procs);
    this.signalEach(signal, procs);
    this.continueGroup(procs);
  }

  /** A stopped (Ctrl-Z) process keeps SIGINT/SIGHUP/SIGTERM pending: wake the group so it can act on them. */
  continueGroup(procs: readonly ProcStat[]): void {
    if (this.target.pgid === null || !procs.some((stat) => stat.state === 'T')) return;
    const pgid = this.target.pgid;
    signalGroup(pgid, 'SIGCONT', [this.target.root, ...identitiesOf(procs.filter((stat) => stat.pgid === pgid))]);
  }

  /** Waits up to `ms` (cut short by abort) until `done()`; returns whether it became true. */
  async waitUntil(ms: number, done: () => boolean): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0 || this.aborted) return false;
      try {
        await sleep(Math.min(POLL_INTERVAL_MS, left), undefined, { signal: this.target.signal });
      } catch (error) {
        // AbortError: the caller wants this over now; the escalation continues without grace.
        if (error instanceof Error && error.name === 'AbortError') return done();
        throw error;
      }
    }
    return true;
  }

  async waitTreeGone(ms: number): Promise<boolean> {
    return this.waitUntil(ms, () => this.scan().length === 0);
  }

  /** Kills the cgroup, SIGKILL to the group, then kill every remaining session process one by one until none is left. */
  async killAndSweep(): Promise<void> {
    let procs = this.scan();
    if (procs.length === 0) return;
    const cgroup = this.target.cgroup;
    if (cgroup !== undefined) {
      // One atomic kill of everything in the cgroup (no fork outruns it); the sweep below finds what is outside.
      const { killed } = await cgroup.kill();
      if (killed > 0) this.record('SIGKILL');
      procs = this.scan();
      if (procs.length === 0) return;
    }
    if (this.signalGroup('SIGKILL', procs)) {
      // Settling is not a courtesy wait, so an abort must not cut it: plain bounded polling.
      const deadline = performance.now() + KILL_SETTLE_MS;
      while (procs.length > 0 && performance.now() < deadline) {
        await sleep(SWEEP_INTERVAL_MS);
        procs = this.scan();
      }
    }
    const swept = new Set<string>();
    for (let round = 0; round < SWEEP_MAX_ROUNDS && procs.length > 0; round += 1) {
      for (const stat of procs) {
        if (signalProcess({ pid: stat.pid, startTime: stat.startTime }, 'SIGKILL') === 'sent') {
          swept.add(`${stat.pid}:${stat.startTime}`);
          this.record('SIGKILL');
        }
      }
      await sleep(SWEEP_INTERVAL_MS);
      procs = this.scan();
    }
    this.sweptProcesses = swept.size;
  }

  result(): TreeKillResult {
    return {
      forced: this.forced,
      lastSignal: this.lastSignal,
      sweptProcesses: this.sweptProcesses,
      // A scan costs a pass over /proc: reuse the last one when nothing was signalled after it.
      remaining: this.signalledSinceScan ? this.scan().length : this.lastScanCount,
    };
  }
}

/** The cgroup's live members that the tree walk did not find (escapees that dropped the marker and left the tree). */
function withCgroupMembers(procs: ProcStat[], cgroup: SessionCgroup | undefined): ProcStat[] {
  if (cgroup === undefined) return procs;
  const found = new Set(procs.map((stat) => stat.pid));
  for (const pid of cgroup.pids()) {
    if (found.has(pid)) continue;
    const stat = readProcStat(pid);
    // A zombie is dead already: only its parent can reap it.
    if (stat !== undefined && !isDeadState(stat.state)) procs.push(stat);
  }
  return procs;
}

/**
 * Ends the session rooted at `opts.root`: politeExit → SIGINT to the group → SIGTERM to the group and each
 * process → SIGKILL to the group → SIGKILL sweep of every remaining session process. Each step is skipped as soon
 * as nothing of the session is alive.
 */
export async function terminateProcessTree(opts: TerminateTreeOptions): Promise<TreeKillResult> {
  const run = new Escalation(opts);
  // Snapshot first: children seen now stay tracked after their parent dies and they are re-parented.
  if (run.scan().length === 0) return run.result();

  if (opts.politeExit !== undefined) {
    opts.politeExit();
    await run.waitUntil(opts.politeGraceMs, () => !isAlive(opts.root));
    if (run.scan().length === 0) return run.result();
  }

  if (!run.aborted) {
    const procs = run.scan();
    // Without a group of its own, SIGINT goes to the root alone (it is what Ctrl-C would reach).
    const sent = run.signalGroup('SIGINT', procs) || run.signalEach('SIGINT', procs.filter((s) => s.pid === opts.root.pid)) > 0;
    run.continueGroup(procs);
    if (sent && (await run.waitTreeGone(opts.interruptGraceMs))) return run.result();
  }

  return terminateThenKill(run, opts.termGraceMs);
}

/**
 * After a session's main process ended on its own, ends what it left behind like a closed terminal would:
 * SIGHUP → grace → SIGTERM → grace → SIGKILL sweep. Same result type as terminateProcessTree.
 */
export async function sweepOrphans(opts: SweepOrphansOptions): Promise<TreeKillResult> {
  const run = new Escalation(opts);
  const procs = run.scan();
  if (procs.length === 0) return run.result();

  if (!run.aborted) {
    run.signalTree('SIGHUP', procs);
    if (await run.waitTreeGone(opts.hangupGraceMs)) return run.result();
  }

  return terminateThenKill(run, opts.termGraceMs);
}

/** The last two steps of every escalation: SIGTERM to the whole tree, a grace, then SIGKILL and the sweep. */
async function terminateThenKill(run: Escalation, termGraceMs: number): Promise<TreeKillResult> {
  if (!run.aborted) {
    const procs = run.scan();
    if (procs.length === 0) return run.result();
    run.signalTree('SIGTERM', procs);
    if (await run.waitTreeGone(termGraceMs)) return run.result();
  }
  await run.killAndSweep();
  return run.result();
}
