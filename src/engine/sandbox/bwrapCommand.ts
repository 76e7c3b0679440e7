// The argv that runs a session's program inside its sandbox: bubblewrap with the plan's mounts, its own pid and IPC
// namespaces (no other process is visible or signalable, /proc is its own), the host's network or none, every
// capability dropped when the daemon is root, then the program under the sandbox's own init. The holder (or the
// daemon's backend) execs this argv as it would the program, so the sandbox is in place before the program's first
// instruction.
// Signals the session's process group gets from its terminal (Ctrl-C, Ctrl-\\) and from Corral's escalation
// (INT, QUIT, TERM, HUP): bwrap shares the program's process group and would die of them first (a program that
// catches Ctrl-C would lose its sandbox). The caller has them ignored before bwrap starts (corral-cgroup-enter
// --ignore-group-signals, see Containment.wrap), and corral-sandbox-init gives the program the defaults back.
// The init and its status file are not mounted in the sandbox: the caller opens them at INIT_FD and STATUS_FD
// (`files`, corral-cgroup-enter --open-read/--open-write), bwrap inherits both and execs the init through
// /proc/self/fd (the sandbox's own /proc still resolves it), and the init closes both for the program.

import { isWithin, type SandboxPlan } from './sandboxPlan.js';
import { runningAsRoot } from './sandboxSupport.js';

/** Fixed descriptors, above what a program's own setup uses: the init binary and the file it reports the end in. */
export const INIT_FD = 100;
export const STATUS_FD = 101;

/** A file the caller opens at a fixed descriptor before bwrap starts. */
export interface PassedFile {
  fd: number;
  path: string;
  mode: 'read' | 'write';
}

export interface SandboxCommand {
  argv: string[];
  files: PassedFile[];
}

export function sandboxedCommand(plan: SandboxPlan, argv: readonly string[]): SandboxCommand {
  // --die-with-parent: the sandbox ends with the bwrap that watches it. No --new-session: the program keeps the
  // terminal as its controlling tty (job control, Ctrl-C) that the holder gave it. --as-pid-1: our init is the
  // namespace's pid 1 instead of bwrap's reaper (one process, and it can say whether a signal ended the program).
  const args = [plan.bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--as-pid-1'];
  if (plan.network === 'none') args.push('--unshare-net');
  // Root keeps its capabilities in a bwrap without a user namespace; a session has no use for them.
  if (runningAsRoot()) args.push('--cap-drop', 'ALL');
  let procAndDev = false;
  // Directories that exist inside so far: mount points, and everything under a bound host directory.
  const mounted: string[] = [];
  const bound: string[] = [];
  const exists = (dir: string): boolean => dir === '/' || mounted.includes(dir) || bound.some((b) => isWithin(dir, b));
  /** The parents bwrap would create for a mount point: made read-only (0555), so nothing can be written beside it. */
  const parents = (target: string): void => {
    const parts = target.split('/').filter((part) => part !== '');
    for (let i = 1; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (exists(dir)) continue;
      args.push('--perms', '0555', '--dir', dir);
      mounted.push(dir);
    }
  };
  for (const mount of plan.mounts) {
    switch (mount.kind) {
      case 'symlink':
        args.push('--symlink', mount.source, mount.target);
        break;
      case 'ro':
      case 'rw':
        parents(mount.target);
        if (mount.kind === 'ro') args.push(mount.optional === true ? '--ro-bind-try' : '--ro-bind', mount.source, mount.target);
        else args.push(mount.optional === true ? '--bind-try' : '--bind', mount.source, mount.target);
        bound.push(mount.target);
        break;
      case 'tmpfs':
        if (!procAndDev) {
          // The sandbox's own /proc (its pid namespace only) and a minimal /dev, before the first scratch dir.
          args.push('--proc', '/proc', '--dev', '/dev');
          procAndDev = true;
        }
        parents(mount.target);
        // /tmp is the session's scratch space; any other tmpfs masks something (the data dir): nothing to write there.
        if (mount.target !== '/tmp') args.push('--perms', '0555');
        args.push('--tmpfs', mount.target);
        mounted.push(mount.target);
        break;
    }
  }
  if (!procAndDev) args.push('--proc', '/proc', '--dev', '/dev');
  // The sandbox's root is bwrap's own tmpfs: read-only, so the only writable places are the binds and /tmp.
  args.push('--remount-ro', '/', '--chdir', plan.cwd, '--', `/proc/self/fd/${INIT_FD}`, String(INIT_FD), String(STATUS_FD), '--');
  // The program by its real path: the path it was found by (a node_modules/.bin symlink) may not exist inside.
  const index = argv.indexOf(plan.executable);
  return {
    argv: [...args, ...argv.map((arg, i) => (i === index ? plan.program : arg))],
    files: [
      { fd: INIT_FD, path: plan.init, mode: 'read' },
      { fd: STATUS_FD, path: plan.statusFile, mode: 'write' },
    ],
  };
}
