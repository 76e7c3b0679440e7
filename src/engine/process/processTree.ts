// Finds every live process that belongs to a session — in the daemon's own tree, or in all of /proc after a crash —
// and sums their resource usage.
// Must never include the calling process or its ancestors, nor follow a pid whose start time no longer matches.
import { identityKey, isDeadState, type ProcessIdentity } from './ProcessIdentity.js';
import { native } from './nativeBinding.js';
import { childPids, listPids, readEnvironValue, readProcStat, type ProcStat } from './procfs.js';

/** Environment variable every session child carries: the marker that finds re-parented (setsid/double-fork) ones. */
export const SESSION_MARKER_KEY = 'CORRAL_SESSION_ID';

export interface SessionMarker {
  key: string;
  value: string;
}

export interface FindSessionOptions {
  /** The session's main process; its descendants are followed only while its start time matches. */
  root: ProcessIdentity;
  /** Environment key=value set in every session child. */
  marker?: SessionMarker;
  /** Processes seen in the session before (they may have been re-parented since); kept while their start time matches. */
  known?: readonly ProcessIdentity[];
  /**
   * Pids that are certainly not this session's: the live main processes of the daemon's other sessions (our
   * direct children, not yet reaped, so their pids cannot have been recycled). Their environment is never read.
   */
  notOurs?: ReadonlySet<number>;
  /**
   * Where to look. 'descendants' walks only the calling process's own tree: enough when it is a child subreaper,
   * since every process a session starts then stays below it, however it re-parents. 'system' scans all of /proc
   * (crash recovery: the old daemon's sessions are not our descendants). Default: 'descendants' when we are a
   * child subreaper, else 'system'.
   */
  scope?: 'descendants' | 'system';
  /**
   * A process that owns the session without being part of it (its corral-holder, a child subreaper): its children
   * are the session's (the program, and escapees re-parented to it) while its start time matches; it is never
   * returned itself. It makes the walk complete without a system-wide marker scan, also after a daemon restart.
   */
  host?: ProcessIdentity;
}

/** Children of the session's host (seeds of the walk), or none when it is gone or not the recorded process. */
function hostChildren(host: ProcessIdentity | undefined): ProcStat[] {
  if (host === undefined || !matches(readProcStat(host.pid), host)) return [];
  return childPids(host.pid).flatMap((pid) => readProcStat(pid) ?? []);
}

function readAll(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat !== undefined) stats.set(pid, stat);
  }
  return stats;
}

/** The calling process and every ancestor up to PID 1: never part of a session, whatever their environment says. */
function selfAndAncestors(stats: ReadonlyMap<number, ProcStat>): Set<number> {
  const excluded = new Set<number>([process.pid]);
  let current = stats.get(process.pid);
  while (current !== undefined && current.ppid > 0 && !excluded.has(current.ppid)) {
    excluded.add(current.ppid);
    current = stats.get(current.ppid);
  }
  return excluded;
}

function childrenByParent(stats: ReadonlyMap<number, ProcStat>): Map<number, ProcStat[]> {
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats.values()) {
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat]);
    else siblings.push(stat);
  }
  return children;
}

function matches(stat: ProcStat | undefined, id: ProcessIdentity): stat is ProcStat {
  return stat !== undefined && stat.startTime === id.startTime;
}

/**
 * Every live (non-zombie) process of a session: the root (if still the same process), the still-matching `known`
 * identities, every process whose environment carries `marker`, and all their descendants by the ppid chain.
 * Zombies are left out: they are dead, and only their parent can (and should) reap them.
 */
export function findSessionProcesses(opts: FindSessionOptions): ProcStat[] {
  const scope = opts.scope ?? (native.isChildSubreaper() ? 'descendants' : 'system');
  return scope === 'descendants' ? findInOwnTree(opts) : findInSystem(opts);
}

/** A descendant cannot have started before the session's root: older processes need no environ read. */
function mayCarryMarker(stat: ProcStat, root: ProcessIdentity): boolean {
  return !isDeadState(stat.state) && (root.startTime < 0 || stat.startTime >= root.startTime);
}

function findInSystem(opts: FindSessionOptions): ProcStat[] {
  const stats = readAll();
  const excluded = selfAndAncestors(stats);
  const seeds: ProcStat[] = [];
  const rootStat = stats.get(opts.root.pid);
  if (matches(rootStat, opts.root)) seeds.push(rootStat);
  for (const id of opts.known ?? []) {
    const stat = stats.get(id.pid);
    if (matches(stat, id)) seeds.push(stat);
  }
  if (opts.marker !== undefined) {
    for (const stat of stats.values()) {
      // A zombie's environ reads empty and it is dead anyway; skip the read for excluded ones too.
      if (excluded.has(stat.pid) || opts.notOurs?.has(stat.pid) === true || !mayCarryMarker(stat, opts.root)) continue;
      if (readEnvironValue(stat.pid, opts.marker.key) === opts.marker.value) seeds.push(stat);
    }
  }
  if (opts.host !== undefined) {
    excluded.add(opts.host.pid);
    seeds.push(...hostChildren(opts.host));
  }
  const children = childrenByParent(stats);
  return walkDown(seeds, excluded, (pid) => children.get(pid) ?? []);
}

/**
 * The same answer from our own tree only, reading as little of /proc as it can: the daemon's direct children
 * (session roots, and orphans re-parented to us), the marker of those we cannot attribute (each read once per
 * process, cached), then the subtrees below the seeds. A session that ended leaving nothing costs a few reads.
 */
function findInOwnTree(opts: FindSessionOptions): ProcStat[] {
  const excluded = new Set([process.pid]);
  const seeds: ProcStat[] = hostChildren(opts.host);
  if (opts.host !== undefined) excluded.add(opts.host.pid);
  const direct = childPids(process.pid);
  forgetMarkersExcept(direct);
  for (const pid of direct) {
    if (pid === opts.root.pid) {
      const stat = readProcStat(pid);
      if (matches(stat, opts.root)) seeds.push(stat);
      continue;
    }
    if (opts.marker === undefined || opts.notOurs?.has(pid) === true || pid === opts.host?.pid) continue;
    const stat = readProcStat(pid);
    if (stat === undefined || !mayCarryMarker(stat, opts.root)) continue;
    if (cachedMarker(stat, opts.marker.key) === opts.marker.value) seeds.push(stat);
  }
  for (const id of opts.known ?? []) {
    if (id.pid === opts.root.pid) continue;
    const stat = readProcStat(id.pid);
    if (matches(stat, id)) seeds.push(stat);
  }
  return walkDown(seeds, excluded, (pid) => childPids(pid).flatMap((child) => readProcStat(child) ?? []));
}

/** Seeds and everything below them, each once; zombies are walked through (they have no children) but not kept. */
function walkDown(seeds: ProcStat[], excluded: ReadonlySet<number>, childrenOf: (pid: number) => ProcStat[]): ProcStat[] {
  const found = new Map<number, ProcStat>();
  const queue = seeds;
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (found.has(next.pid) || excluded.has(next.pid)) continue;
    found.set(next.pid, next);
    // A zombie has no children left (they were re-parented when it exited), so the walk stays sound.
    if (!isDeadState(next.state)) queue.push(...childrenOf(next.pid));
  }
  return [...found.values()].filter((stat) => !isDeadState(stat.state));
}

/** Marker values of the daemon's direct children, by identity: a process's starting environment never changes. */
const markerCache = new Map<string, { key: string; value: string | undefined }>();

function cachedMarker(stat: ProcStat, key: string): string | undefined {
  const id = identityKey({ pid: stat.pid, startTime: stat.startTime });
  const cached = markerCache.get(id);
  if (cached?.key === key) return cached.value;
  const value = readEnvironValue(stat.pid, key);
  markerCache.set(id, { key, value });
  return value;
}

/** Drops cached markers of processes that are no longer our direct children (keeps the cache bounded). */
function forgetMarkersExcept(direct: readonly number[]): void {
  if (markerCache.size === 0) return;
  const live = new Set(direct);
  for (const id of markerCache.keys()) {
    if (!live.has(Number(id.slice(0, id.indexOf(':'))))) markerCache.delete(id);
  }
}

export interface TreeUsage {
  /** User + system CPU time of the live processes, in milliseconds (children already reaped are not counted). */
  cpuMs: number;
  rssBytes: number;
  processCount: number;
}

const CLOCK_TICKS_PER_SECOND = native.clockTicksPerSecond();

export function treeUsage(procs: readonly ProcStat[]): TreeUsage {
  let ticks = 0;
  let rssBytes = 0;
  for (const stat of procs) {
    ticks += stat.utimeTicks + stat.stimeTicks;
    rssBytes += stat.rssBytes;
  }
  return { cpuMs: Math.round((ticks * 1000) / CLOCK_TICKS_PER_SECOND), rssBytes, processCount: procs.length };
}

/** Identities of `procs`, to feed back as `known` so re-parented processes stay tracked. */
export function identitiesOf(procs: readonly ProcStat[]): ProcessIdentity[] {
  return procs.map((stat) => ({ pid: stat.pid, startTime: stat.startTime }));
}

/** Merges identity lists without duplicates. */
export function mergeIdentities(...lists: ReadonlyArray<readonly ProcessIdentity[]>): ProcessIdentity[] {
  const merged = new Map<string, ProcessIdentity>();
  for (const list of lists) for (const id of list) merged.set(identityKey(id), id);
  return [...merged.values()];
}

/** Descendants of the calling process: live ones and zombies (for tests and leak checks). */
export function countOwnTree(): { processes: number; zombies: number } {
  const stats = readAll();
  const children = childrenByParent(stats);
  let processes = 0;
  let zombies = 0;
  const queue = [...(children.get(process.pid) ?? [])];
  // A pid recycled mid-scan could make the snapshot cyclic: visit each pid once.
  const seen = new Set<number>();
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (seen.has(next.pid)) continue;
    seen.add(next.pid);
    if (isDeadState(next.state)) zombies += 1;
    else processes += 1;
    queue.push(...(children.get(next.pid) ?? []));
  }
  return { processes, zombies };
}
