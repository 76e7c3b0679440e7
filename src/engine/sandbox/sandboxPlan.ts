// Turns a session's sandbox policy (its request's, else its profile's) into the mounts of its sandbox: the system
// read-only, the program's install directory read-only, the cwd and extra binds (under the workspace roots), the
// session's own private directories, and a HOME of its own. The daemon's data dir (its token, its store, every other
// session's files) is never mounted, and is masked where a bound directory contains it. It starts nothing.

import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { CorralError } from '../../protocol/errors.js';
import type { SandboxRequest } from '../../protocol/api.js';
import type { SessionSandbox } from '../../protocol/sessionTypes.js';
import type { CwdPolicy } from '../security/cwdPolicy.js';
import type { SandboxSupport } from './sandboxSupport.js';

/** Read-only system directories a program needs (merged-/usr systems have /bin etc. as symlinks, kept as such). */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt'];
/** Where /etc/resolv.conf may point (systemd-resolved, NetworkManager): mounted read-only when present. */
const RESOLVER_PATHS = ['/run/systemd/resolve', '/run/NetworkManager', '/run/resolvconf'];

/** One step of the sandbox's filesystem, applied in order (later mounts sit on top of earlier ones). */
export type SandboxMount =
  | { kind: 'ro' | 'rw'; source: string; target: string; optional?: boolean }
  | { kind: 'tmpfs'; target: string }
  | { kind: 'symlink'; source: string; target: string };

export interface SandboxPlan {
  /** The bubblewrap binary. */
  bwrap: string;
  network: 'full' | 'none';
  cwd: string;
  mounts: SandboxMount[];
  /** The program as found on the host (PATH lookup), and its real path, which is what the sandbox runs. */
  executable: string;
  program: string;
  /** The sandbox's pid 1 (corral-sandbox-init) on the host, and the host file it reports the program's end in. */
  init: string;
  statusFile: string;
}

/** The sandbox of one session: what its info shows, and the plan the spawn wraps the program with (null: none). */
export interface SandboxDecision {
  info: SessionSandbox;
  plan: SandboxPlan | null;
}

export interface SandboxInputs {
  /** Asked only when a sandbox is wanted (the first ask probes the machine). */
  support: () => SandboxSupport;
  cwdPolicy: CwdPolicy;
  dataDir: string;
  /** The policy asked for: the request's, else its template's, else the profile's; undefined for none at all. */
  policy: SandboxRequest | undefined;
  cwd: string;
  /** The program to run (resolved by PATH). */
  executable: string;
  /** The session's HOME as its environment says. */
  home: string | undefined;
  /** Directories of the session's own under the data dir: `rw` (an agent's HOME and settings) or `ro` (shell rc files). */
  privateDirs: { path: string; mode: 'ro' | 'rw' }[];
  /** The directory of the hook socket, when the session reports through hooks. */
  hooksDir: string | null;
  /** A writable directory of the session's own mounted as HOME when its HOME is not visible otherwise. */
  ownHome: string;
  /** The session's own file the sandbox's init writes how the program ended to (see sandboxExitFile). */
  statusFile: string;
}

export function planSandbox(inputs: SandboxInputs): SandboxDecision {
  const { policy } = inputs;
  if (policy === undefined) return { info: { mode: 'none', reason: 'not-requested' }, plan: null };
  if (policy === 'none') return { info: { mode: 'none', reason: 'opted-out' }, plan: null };
  const support = inputs.support();
  if (!support.available) {
    throw new CorralError('SANDBOX_UNAVAILABLE', `This session asks for a sandbox and none can be made here: ${support.reason}. It was not started.`, {
      details: { reason: support.reason, bwrap: support.bwrap },
    });
  }
  const dataDir = realpathSync(inputs.dataDir);
  const mounts: SandboxMount[] = [];
  for (const path of SYSTEM_PATHS) {
    if (!existsSync(path)) continue;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) mounts.push({ kind: 'symlink', source: readlinkSync(path), target: path });
    else mounts.push({ kind: 'ro', source: path, target: path });
  }
  for (const path of RESOLVER_PATHS) mounts.push({ kind: 'ro', source: path, target: path, optional: true });
  mounts.push({ kind: 'tmpfs', target: '/tmp' });
  const program = realpathSync(inputs.executable);
  const visible = (path: string): boolean => mounts.some((m) => m.kind !== 'tmpfs' && m.kind !== 'symlink' && isWithin(path, m.target));
  // The program and the node running the daemon (the hook reporter falls back to it) where the system does not hold them.
  for (const installed of [installRoot(program), installRoot(realpathSync(process.execPath))]) {
    if (!visible(installed)) mounts.push({ kind: 'ro', source: installed, target: installed });
  }
  mounts.push({ kind: 'rw', source: inputs.cwd, target: inputs.cwd });
  for (const bind of policy.binds ?? []) {
    const real = checkBind(inputs.cwdPolicy, dataDir, bind.path);
    mounts.push({ kind: bind.mode === 'rw' ? 'rw' : 'ro', source: real, target: real });
  }
  // A root (the default one is the user's HOME) may hold the data dir: mask it wherever a mount exposed it.
  if (mounts.some((m) => (m.kind === 'ro' || m.kind === 'rw') && isWithin(dataDir, m.target))) mounts.push({ kind: 'tmpfs', target: dataDir });
  for (const dir of inputs.privateDirs) {
    if (existsSync(dir.path)) mounts.push({ kind: dir.mode, source: dir.path, target: dir.path });
  }
  if (inputs.hooksDir !== null) mounts.push({ kind: 'rw', source: inputs.hooksDir, target: inputs.hooksDir });
  const home = inputs.home;
  if (home !== undefined && home.startsWith('/') && !mounts.some((m) => m.kind === 'rw' && isWithin(home, m.target))) {
    mkdirSync(inputs.ownHome, { recursive: true, mode: 0o700 });
    mounts.push({ kind: 'rw', source: inputs.ownHome, target: home });
  }
  // Its directory is made here; the file is opened (emptied) by the spawn, outside the sandbox (bwrapCommand.ts).
  mkdirSync(dirname(inputs.statusFile), { recursive: true, mode: 0o700 });
  const network = policy.network ?? 'full';
  return {
    info: {
      mode: 'bwrap',
      network,
      readOnly: mounts.flatMap((m) => (m.kind === 'ro' && (m.optional !== true || existsSync(m.source)) ? [m.target] : [])),
      writable: mounts.flatMap((m) => (m.kind === 'rw' ? [m.target] : [])),
    },
    plan: { bwrap: support.bwrap, network, cwd: inputs.cwd, mounts, executable: inputs.executable, program, init: support.init, statusFile: inputs.statusFile },
  };
}

/** Whether `path` is `dir` or lies under it (whole path components). */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * The directory a program is installed in: the outermost `node_modules` above it (npm CLIs need their dependencies
 * beside them), else the program's own directory.
 */
function installRoot(program: string): string {
  const parts = program.split(sep);
  const index = parts.indexOf('node_modules');
  if (index > 0) return parts.slice(0, index + 1).join(sep);
  return dirname(program);
}

/** An extra bind's real path: it must exist, lie under a workspace root and neither be nor hold the data dir. */
function checkBind(cwdPolicy: CwdPolicy, dataDir: string, path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
    statSync(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT/ENOTDIR/EACCES/ELOOP: nothing usable there.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP') {
      throw new CorralError('SANDBOX_BIND_NOT_ALLOWED', `Sandbox bind ${path} does not exist.`, { details: { path } });
    }
    throw error;
  }
  if (!cwdPolicy.isUnderRoot(real) || isWithin(real, dataDir)) {
    throw new CorralError('SANDBOX_BIND_NOT_ALLOWED', `Sandbox bind ${path} is outside the workspace roots (${cwdPolicy.roots.join(', ')}) or inside the daemon's data dir.`, {
      details: { path, roots: cwdPolicy.roots },
    });
  }
  return real;
}

/** Where a session's own sandbox HOME lives (inside its private dir). */
export function sandboxHomeDir(sessionDir: string): string {
  return join(sessionDir, 'sandbox-home');
}

/** The file the sandbox's init writes how the program ended to: `signal N` or `exit N` (native/sandbox_init.c). */
export function sandboxExitFile(sessionDir: string): string {
  return join(sessionDir, 'sandbox-exit');
}
