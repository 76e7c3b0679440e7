// Reads process facts from /proc: stat lines, the pid list, a process's children, one environment value.
// Must never throw because a process vanished mid-read: a gone process is `undefined`, not an error.
import { readFileSync, readdirSync } from 'node:fs';
import { errnoCode, native } from './nativeBinding.js';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Session id. */
  sid: number;
  /** One char: R running, S sleeping, D disk wait, Z zombie, T stopped, X dead, ... */
  state: string;
  /** Field 22: start time in clock ticks since boot. With pid it names one process for good. */
  startTime: number;
  /** Executable name, at most 15 bytes, may contain spaces and parentheses. */
  comm: string;
  utimeTicks: number;
  stimeTicks: number;
  /** Approximate: the kernel reports it from per-CPU cached counters (may lag, even read 0 right after exec). */
  rssBytes: number;
}

const PAGE_SIZE = native.pageSize();

/**
 * Errnos that mean "this process is gone or not ours to read": ENOENT (no such /proc entry), ESRCH (it exited
 * between open and read), EACCES/EPERM (another user's process when not root). Anything else is a real bug.
 */
const GONE_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM']);

function isGoneError(error: unknown): boolean {
  const code = errnoCode(error);
  return code !== undefined && GONE_ERRNOS.has(code);
}

/** Parses one /proc/<pid>/stat line; exported for tests. Returns undefined on a malformed line. */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  // comm may itself contain ')' and ' (': the real end of comm is the LAST ')'.
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  const comm = line.slice(open + 1, close);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const rest = line.slice(close + 2).split(' ');
  const field = (n: number): number => Number(rest[n - 3]);
  const state = rest[0];
  if (state === undefined || state.length !== 1 || !Number.isInteger(pid)) return undefined;
  const stat: ProcStat = {
    pid,
    ppid: field(4),
    pgid: field(5),
    sid: field(6),
    state,
    startTime: field(22),
    comm,
    utimeTicks: field(14),
    stimeTicks: field(15),
    rssBytes: field(24) * PAGE_SIZE,
  };
  const numbers = [stat.ppid, stat.pgid, stat.sid, stat.startTime, stat.utimeTicks, stat.stimeTicks, stat.rssBytes];
  return numbers.every(Number.isFinite) ? stat : undefined;
}

/** The stat of `pid`, or undefined when it is gone (a zombie is still returned, with state 'Z'). */
export function readProcStat(pid: number): ProcStat | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (isGoneError(error)) return undefined;
    throw error;
  }
  return parseProcStat(line);
}

/** Every process id (thread-group leaders only) currently in /proc. */
export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const first = name.charCodeAt(0);
    // Only the numeric entries are processes; skip 'self', 'sys', ... without a Number() per entry.
    if (first < 48 || first > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid)) pids.push(pid);
  }
  return pids;
}

/**
 * Direct children of `pid` (of every thread of it), from /proc/<pid>/task/<tid>/children: the kernel's own list,
 * so finding them costs one read per thread instead of a pass over all of /proc. Empty when `pid` is gone.
 */
export function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    if (isGoneError(error)) return [];
    throw error;
  }
  const pids: number[] = [];
  for (const tid of tasks) {
    let list: string;
    try {
      list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1');
    } catch (error) {
      // The thread ended between the listing and the read.
      if (isGoneError(error)) continue;
      throw error;
    }
    for (const item of list.split(' ')) {
      if (item.length > 0) pids.push(Number(item));
    }
  }
  return pids;
}

/**
 * The value of `key` in the environment `pid` was started with (/proc/<pid>/environ), or undefined when it is
 * not set, the process is gone, or it is a zombie (whose environ reads empty).
 */
export function readEnvironValue(pid: number, key: string): string | undefined {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch (error) {
    if (isGoneError(error)) return undefined;
    throw error;
  }
  const prefix = Buffer.from(`${key}=`);
  let start = 0;
  while (start < environ.length) {
    let end = environ.indexOf(0, start);
    if (end < 0) end = environ.length;
    if (end - start >= prefix.length && environ.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0) {
      return environ.toString('utf8', start + prefix.length, end);
    }
    start = end + 1;
  }
  return undefined;
}
