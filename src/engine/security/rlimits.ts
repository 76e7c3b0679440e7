// Per-session resource limits (PRODUCT §1.6): applied by util-linux `prlimit`, which sets them on itself and
// then execs the program — so they hold from the program's first instruction, with no window after spawn.
// Note: RLIMIT_NPROC counts every process of the user and does not apply to root.

import type { SessionLimits } from '../../protocol/sessionTypes.js';

/** util-linux is an essential Debian package, so prlimit is always here. */
const PRLIMIT = '/usr/bin/prlimit';

function hasRlimits(limits: SessionLimits): boolean {
  return [limits.openFiles, limits.processes, limits.cpuSeconds, limits.memoryBytes].some((v) => v !== null && v !== undefined);
}

/** argv that runs `argv` under the limits (soft = hard), or `argv` itself when none are set. */
export function withRlimits(argv: string[], limits: SessionLimits): string[] {
  if (!hasRlimits(limits)) return argv;
  const flags: string[] = [];
  const add = (flag: string, value: number | null | undefined): void => {
    if (value !== null && value !== undefined) flags.push(`--${flag}=${value}:${value}`);
  };
  add('nofile', limits.openFiles);
  add('nproc', limits.processes);
  add('cpu', limits.cpuSeconds);
  add('as', limits.memoryBytes);
  return [PRLIMIT, ...flags, '--', ...argv];
}
