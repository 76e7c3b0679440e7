// Small, synchronous reads and writes of cgroup files (v1 and v2 alike), and what the kernel tells us about where a
// process sits. Must never throw for a cgroup or process that vanished meanwhile: that reads as empty / absent.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { errnoCode } from '../nativeBinding.js';

/** Errnos of a cgroup (or a process) that is gone or going: not an error for a reader. */
const GONE: ReadonlySet<string> = new Set(['ENOENT', 'ESRCH', 'ENODEV']);

export function isGone(error: unknown): boolean {
  const code = errnoCode(error);
  return code !== undefined && GONE.has(code);
}

/** The file's text, or undefined when it (or its cgroup) does not exist. */
export function readCgroupFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/** One number from a file such as pids.current or memory.current; undefined when absent or not a number. */
export function readCgroupNumber(path: string): number | undefined {
  const text = readCgroupFile(path)?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export function writeCgroupFile(path: string, value: string): void {
  writeFileSync(path, value, { encoding: 'latin1', flag: 'w' });
}

/** Pids listed in a cgroup.procs file (empty when the cgroup is gone). */
export function readProcs(procsFile: string): number[] {
  const text = readCgroupFile(procsFile);
  if (text === undefined) return [];
  const pids: number[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const pid = Number(line);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

export function makeCgroupDir(path: string): void {
  mkdirSync(path, { recursive: true });
}

/** Removes an (empty) cgroup directory; true when it is gone. EBUSY: a task is still in it (or exiting). */
export function removeCgroupDir(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (error) {
    if (isGone(error)) return true;
    if (errnoCode(error) === 'EBUSY') return false;
    throw error;
  }
}

/** A process's cgroup paths by hierarchy: "" for v2 (0::/path), the controller list (e.g. "pids") for v1. */
export function processCgroups(pid: number | 'self'): Map<string, string> {
  const text = readCgroupFile(`/proc/${pid}/cgroup`);
  const paths = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    paths.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return paths;
}

export interface CgroupMount {
  /** Where it is mounted, e.g. /sys/fs/cgroup/pids or /sys/fs/cgroup. */
  mountPoint: string;
  /** The cgroup path that is the mount's root (/ unless a container mounted a subtree). */
  root: string;
  /** 'cgroup2', or the v1 controllers of the hierarchy (e.g. ['cpu', 'cpuacct']). */
  version: 1 | 2;
  controllers: string[];
}

/** Every cgroup hierarchy mounted in our mount namespace, from /proc/self/mountinfo. */
export function cgroupMounts(): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of (readCgroupFile('/proc/self/mountinfo') ?? '').split('\n')) {
    // 36 35 98:0 /root /mnt rw,noatime master:1 - cgroup cgroup rw,pids
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const [fstype, , superOptions] = line.slice(dash + 3).split(' ');
    const root = unescapeMountPath(left[3] ?? '/');
    const mountPoint = unescapeMountPath(left[4] ?? '');
    if (fstype === 'cgroup2') mounts.push({ mountPoint, root, version: 2, controllers: [] });
    else if (fstype === 'cgroup') {
      const controllers = (superOptions ?? '').split(',').filter((option) => !['rw', 'ro'].includes(option) && !option.includes('='));
      mounts.push({ mountPoint, root, version: 1, controllers });
    }
  }
  return mounts;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
