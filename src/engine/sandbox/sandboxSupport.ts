// Whether this machine can make a session sandbox: bubblewrap where it was configured, and the namespaces it needs
// (an unprivileged user namespace when the daemon is not root). Probed once at start by running a tiny sandbox;
// a machine that cannot is reported (log, `/healthz`) and sandboxed sessions are refused, never run unsandboxed.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CGROUP_ENTER_PATH } from '../process/cgroups/Containment.js';
import { INIT_FD, STATUS_FD } from './bwrapCommand.js';

/** Debian's `bubblewrap` package installs it here. */
export const DEFAULT_BWRAP_PATH = '/usr/bin/bwrap';
/** The probe starts a process in fresh namespaces: milliseconds normally, this bounds a wedged kernel or a hung binary. */
const PROBE_TIMEOUT_MS = 10_000;
/** Enough of bwrap's complaint to say why (a namespace refusal is one line). */
const REASON_CHARS = 500;

/** The sandbox's pid 1 (native/sandbox_init.c); src/engine/sandbox and dist/engine/sandbox are three levels down. */
export const SANDBOX_INIT_PATH = fileURLToPath(new URL('../../../native/build/Release/corral-sandbox-init', import.meta.url));

export type SandboxSupport = { available: true; bwrap: string; init: string } | { available: false; bwrap: string; reason: string };

/** Whether the daemon runs as root: bwrap then keeps capabilities inside unless told to drop them. */
export function runningAsRoot(): boolean {
  return process.geteuid?.() === 0;
}

/**
 * Runs `/bin/true` in the namespaces a session sandbox uses (pid, mount, ipc; a user namespace when not root), under
 * the sandbox's own init as pid 1, started as sessions start it (bwrapCommand.ts).
 */
export function probeSandbox(bwrap: string, init = SANDBOX_INIT_PATH): SandboxSupport {
  // Asked first: the probe runs bwrap through corral-cgroup-enter, whose exec failure would say less.
  if (!existsSync(bwrap)) return { available: false, bwrap, reason: `bubblewrap is not installed at ${bwrap} (Debian: apt-get install bubblewrap)` };
  for (const binary of [init, CGROUP_ENTER_PATH]) {
    if (!existsSync(binary)) return { available: false, bwrap, reason: `${binary} is missing (run npm run build:native)` };
  }
  const args = [
    '--open-read',
    String(INIT_FD),
    init,
    '--open-write',
    String(STATUS_FD),
    '/dev/null',
    '--',
    bwrap,
    '--unshare-pid',
    '--unshare-ipc',
    '--die-with-parent',
    '--as-pid-1',
    '--ro-bind',
    '/',
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...(runningAsRoot() ? ['--cap-drop', 'ALL'] : []),
    '--',
    `/proc/self/fd/${INIT_FD}`,
    String(INIT_FD),
    String(STATUS_FD),
    '--',
    '/bin/true',
  ];
  const result = spawnSync(CGROUP_ENTER_PATH, args, { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return { available: false, bwrap, reason: `could not run ${bwrap} (${code ?? 'error'}): ${result.error.message}` };
  }
  if (result.status !== 0) {
    const said = (result.stderr ?? '').trim().slice(0, REASON_CHARS);
    return {
      available: false,
      bwrap,
      reason: `${bwrap} could not create namespaces (exit ${result.status ?? result.signal}): ${said === '' ? 'no message' : said}`,
    };
  }
  return { available: true, bwrap, init };
}
