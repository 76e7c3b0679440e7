// The argv that runs a session's program inside its sandbox: bubblewrap with the plan's mounts, its own pid and IPC
// namespaces (no other process is visible or signalable, /proc is its own), the host's network or none, every
// capability dropped when the daemon is root, then the program. The holder (or the daemon's backend) execs this argv
// as it would the program, so the sandbox is in place before the program's first instruction.

import type { SandboxPlan } from './sandboxPlan.js';
import { runningAsRoot } from './sandboxSupport.js';

export function sandboxedArgv(plan: SandboxPlan, argv: readonly string[]): string[] {
  // --die-with-parent: the sandbox ends with the bwrap that watches it. No --new-session: the program keeps the
  // terminal as its controlling tty (job control, Ctrl-C) that the holder gave it.
  const args = [plan.bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc'];
  if (plan.network === 'none') args.push('--unshare-net');
  // Root keeps its capabilities in a bwrap without a user namespace; a session has no use for them.
  if (runningAsRoot()) args.push('--cap-drop', 'ALL');
  let procAndDev = false;
  for (const mount of plan.mounts) {
    switch (mount.kind) {
      case 'symlink':
        args.push('--symlink', mount.source, mount.target);
        break;
      case 'ro':
        args.push(mount.optional === true ? '--ro-bind-try' : '--ro-bind', mount.source, mount.target);
        break;
      case 'rw':
        args.push(mount.optional === true ? '--bind-try' : '--bind', mount.source, mount.target);
        break;
      case 'tmpfs':
        if (!procAndDev) {
          // The sandbox's own /proc (its pid namespace only) and a minimal /dev, before the first scratch dir.
          args.push('--proc', '/proc', '--dev', '/dev');
          procAndDev = true;
        }
        args.push('--tmpfs', mount.target);
        break;
    }
  }
  if (!procAndDev) args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--chdir', plan.cwd, '--');
  // The program by its real path: the path it was found by (a node_modules/.bin symlink) may not exist inside.
  const index = argv.indexOf(plan.executable);
  return [...args, ...argv.map((arg, i) => (i === index ? plan.program : arg))];
}
