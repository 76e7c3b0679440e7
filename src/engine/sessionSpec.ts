// Turns a create request into a session spec: the profile, the checked cwd, a fresh id, the argv with its resolved
// executable, the child's environment (explicit, allowed and internal), an agent's launch additions and the shell
// integration injected at spawn. It starts nothing; a refused request throws before any process exists, and a
// caller's mistake that exec would only report as a bare errno (a directory, a `#!` line naming a missing
// interpreter, an argument past E2BIG) is refused here with its own code.

import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants as fsConstants, openSync, readSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { CorralError } from '../protocol/errors.js';
import type { CreateSessionRequest } from '../protocol/api.js';
import type { AgentLaunch, AgentService } from './agent/AgentService.js';
import type { EngineLogger } from './engineLogger.js';
import type { Profile } from './profiles/profileSchema.js';
import { planSandbox, sandboxExitFile, sandboxHomeDir } from './sandbox/sandboxPlan.js';
import type { SandboxSupport } from './sandbox/sandboxSupport.js';
import { SCOPED_TOKEN_ENV, type ScopedTokens } from './tokens/ScopedTokens.js';
import type { SessionKind } from '../protocol/sessionTypes.js';
import { HOOK_ENV } from './agent/hookCommand.js';
import type { StoredSpec } from './ports.js';
import type { ProfileRegistry } from './profiles/ProfileRegistry.js';
import { buildChildEnv } from './security/childEnv.js';
import type { CwdPolicy } from './security/cwdPolicy.js';
import { SESSION_MARKER_ENV, type SessionSpec } from './Session.js';
import { sessionDir } from './sessionFiles.js';
import { integrateShellAtSpawn } from './shell/shellIntegration.js';
import { native } from './process/nativeBinding.js';

/** Default terminal size when the caller gives none (the classic 80x24 is too narrow for agent TUIs). */
const DEFAULT_COLS = 120;
const DEFAULT_ROWS = 40;

export interface SpecContext {
  dataDir: string;
  profiles: ProfileRegistry;
  cwdPolicy: CwdPolicy;
  agents: Pick<AgentService, 'prepareLaunch'>;
  /** Refused-by-default env names the operator allows. */
  allowEnv: string[];
  /** Whether sandboxes can be made (asked only for a session that wants one) and where the hook socket's dir is. */
  sandbox: { support: () => SandboxSupport; hooksDir: string };
  /** Issues the session's scoped CORRAL_TOKEN; `endpoint` is the daemon's URL once it listens. */
  tokens: Pick<ScopedTokens, 'issue' | 'revoke' | 'endpoint'>;
  log: EngineLogger;
}

/** `trustedCwd`: a directory Corral made itself (a task's git worktree), used without the roots check. */
export function buildSpec(context: SpecContext, request: CreateSessionRequest, trustedCwd?: string): SessionSpec {
  const profileName = request.profile ?? (request.command === undefined ? 'shell' : 'command');
  const profile = context.profiles.get(profileName);
  const cwd = trustedCwd ?? context.cwdPolicy.resolve(request.cwd);
  const id = newSessionId();
  const launch = context.agents.prepareLaunch(id, profile, request, cwd);
  const explicitEnv = { ...profile.env, ...(request.env ?? {}), ...launch.env };
  for (const name of request.secretEnv ?? []) {
    if (!(name in explicitEnv)) {
      throw new CorralError('VALIDATION_FAILED', `secretEnv names ${name}, which is not in env.`, { details: { name } });
    }
  }
  const kind = request.kind ?? profile.kind;
  const scopedToken = request.scopedToken ?? profile.scopedToken ? context.tokens.issue(id, request.taskId ?? null) : null;
  try {
    return finishSpec(context, request, { id, profile, cwd, launch, explicitEnv, kind, scopedToken });
  } catch (error) {
    // Nothing was started: the token of a session that never existed must not linger.
    context.tokens.revoke(id);
    throw error;
  }
}

interface SpecSoFar {
  id: string;
  profile: Profile;
  cwd: string;
  launch: AgentLaunch;
  explicitEnv: Record<string, string>;
  kind: SessionKind;
  scopedToken: { token: string; hash: string } | null;
}

function finishSpec(context: SpecContext, request: CreateSessionRequest, soFar: SpecSoFar): SessionSpec {
  const { id, profile, cwd, launch, explicitEnv, kind, scopedToken } = soFar;
  const tokenEnv: Record<string, string> = {};
  if (scopedToken !== null) {
    tokenEnv[SCOPED_TOKEN_ENV.token] = scopedToken.token;
    if (context.tokens.endpoint !== null) tokenEnv[SCOPED_TOKEN_ENV.url] = context.tokens.endpoint;
  }
  const childEnv = buildChildEnv({
    daemonEnv: process.env,
    explicit: explicitEnv,
    allowed: context.allowEnv,
    internal: {
      [SESSION_MARKER_ENV]: id,
      ...(kind === 'pty' ? { TERM: 'xterm-256color', COLORTERM: 'truecolor' } : {}),
      ...launch.internalEnv,
      ...tokenEnv,
    },
  });
  const argv = (request.command ?? profile.command).map((arg) =>
    arg === '${SHELL}' ? (process.env.SHELL ?? '/bin/bash') : arg,
  );
  const [file, ...args] = argv;
  if (file === undefined) {
    throw new CorralError('VALIDATION_FAILED', `Profile ${profile.name} has no default command: give "command".`);
  }
  if (file === '') {
    throw new CorralError('COMMAND_NOT_EXECUTABLE', 'command[0], the program to run, is empty.', { details: { command: file } });
  }
  const executable = resolveExecutable(file, childEnv.PATH ?? '', cwd);
  checkInterpreter(executable);
  const shell = integrateShellAtSpawn({
    dir: join(sessionDir(context.dataDir, id), 'shell'),
    stateDetection: profile.stateDetection,
    kind,
    argv: [executable, ...args, ...launch.args],
    callerEnv: explicitEnv,
  });
  Object.assign(childEnv, shell.env);
  checkExecLimits(shell.argv, childEnv);
  const ownDir = sessionDir(context.dataDir, id);
  const sandbox = planSandbox({
    support: context.sandbox.support,
    cwdPolicy: context.cwdPolicy,
    dataDir: context.dataDir,
    policy: request.sandbox ?? profile.sandbox,
    cwd,
    executable,
    home: childEnv.HOME,
    privateDirs: [
      { path: join(ownDir, 'agent'), mode: 'rw' },
      { path: join(ownDir, 'shell'), mode: 'ro' },
    ],
    hooksDir: launch.hooks ? context.sandbox.hooksDir : null,
    ownHome: sandboxHomeDir(ownDir),
    statusFile: sandboxExitFile(ownDir),
  });
  if (sandbox.info.mode === 'none' && sandbox.info.reason === 'opted-out') {
    // An explicit opt-out is a decision someone will want to find later.
    context.log(profile.sandbox !== undefined && profile.sandbox !== 'none' ? 'warn' : 'info', 'session runs without a sandbox: opted out', {
      session: id,
      profile: profile.name,
    });
  }
  return {
    id,
    name: request.name ?? null,
    taskId: request.taskId ?? null,
    profile,
    kind,
    command: shell.argv,
    cwd,
    explicitEnv,
    secretEnvNames: [...(request.secretEnv ?? []), ...launch.secretEnv],
    autoAnswer: launch.autoAnswer,
    childEnv,
    cols: request.cols ?? DEFAULT_COLS,
    rows: request.rows ?? DEFAULT_ROWS,
    labels: request.labels ?? {},
    limits: {
      maxLifetimeMs: request.limits?.maxLifetimeMs ?? null,
      idleTimeoutMs: request.limits?.idleTimeoutMs ?? null,
      openFiles: request.limits?.openFiles ?? null,
      processes: request.limits?.processes ?? null,
      cpuSeconds: request.limits?.cpuSeconds ?? null,
      memoryBytes: request.limits?.memoryBytes ?? null,
      cpuWeight: request.limits?.cpuWeight ?? null,
    },
    ...(shell.integration === undefined ? {} : { shellIntegration: shell.integration }),
    sandbox,
    ...(scopedToken === null ? {} : { scopedTokenHash: scopedToken.hash }),
  };
}

/** What a restarted daemon needs of the spec (issue 14); the child's environment is not kept, bar the hook secret. */
export function toStoredSpec(spec: SessionSpec): StoredSpec {
  const hookSecret = spec.childEnv[HOOK_ENV.secret];
  return {
    name: spec.name,
    taskId: spec.taskId,
    profile: spec.profile.name,
    kind: spec.kind,
    command: spec.command,
    cwd: spec.cwd,
    explicitEnv: spec.explicitEnv,
    secretEnvNames: spec.secretEnvNames,
    labels: spec.labels,
    limits: spec.limits,
    ...(spec.shellIntegration === undefined ? {} : { shellIntegration: spec.shellIntegration }),
    ...(spec.autoAnswer === undefined ? {} : { autoAnswer: spec.autoAnswer }),
    ...(hookSecret === undefined ? {} : { hookSecret }),
    sandbox: spec.sandbox.info,
    ...(spec.scopedTokenHash === undefined ? {} : { scopedTokenHash: spec.scopedTokenHash }),
  };
}

/** The spec of a session a restarted daemon takes over. Throws PROFILE_NOT_FOUND when its profile is gone. */
export function fromStoredSpec(id: string, stored: StoredSpec, profiles: ProfileRegistry, size: { cols: number; rows: number }): SessionSpec {
  return {
    id,
    name: stored.name,
    taskId: stored.taskId,
    profile: profiles.get(stored.profile),
    kind: stored.kind,
    command: stored.command,
    cwd: stored.cwd,
    explicitEnv: stored.explicitEnv,
    secretEnvNames: stored.secretEnvNames,
    childEnv: stored.hookSecret === undefined ? {} : { [HOOK_ENV.secret]: stored.hookSecret },
    cols: size.cols,
    rows: size.rows,
    labels: stored.labels,
    limits: stored.limits,
    ...(stored.shellIntegration === undefined ? {} : { shellIntegration: stored.shellIntegration }),
    ...(stored.autoAnswer === undefined ? {} : { autoAnswer: stored.autoAnswer }),
    // The sandbox is in place around the running program; only what the info shows is needed again.
    sandbox: { info: stored.sandbox ?? { mode: 'none', reason: 'not-requested' }, plan: null },
    ...(stored.scopedTokenHash === undefined ? {} : { scopedTokenHash: stored.scopedTokenHash }),
  };
}

function newSessionId(): string {
  // 128 random bits, never derived from a pid (PRODUCT §1).
  return `s_${randomBytes(16).toString('base64url')}`;
}

/** Whether `candidate` is a file this user may execute (a directory has the x bit too, but exec refuses it). */
function isExecutableFile(candidate: string): boolean {
  try {
    accessSync(candidate, fsConstants.X_OK);
    return !statSync(candidate).isDirectory();
  } catch (error) {
    // ENOENT/EACCES/ENOTDIR: not an executable we can run; keep looking.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return false;
    throw error;
  }
}

/** The executable `file` names: a path (relative to cwd) or a name looked up in PATH (directories skipped, as execvp does). */
export function resolveExecutable(file: string, path: string, cwd: string): string {
  if (file.includes('/')) {
    const full = isAbsolute(file) ? file : resolvePath(cwd, file);
    if (isExecutableFile(full)) return full;
    if (isDirectory(full)) {
      throw new CorralError('COMMAND_NOT_EXECUTABLE', `Cannot run "${file}": it is a directory.`, { details: { command: file } });
    }
  } else {
    for (const dir of path.split(delimiter)) {
      if (dir === '') continue;
      const full = join(dir, file);
      if (isExecutableFile(full)) return full;
    }
  }
  throw new CorralError('COMMAND_NOT_FOUND', `Cannot run "${file}": no such executable${file.includes('/') ? '' : ' in PATH'}.`, {
    details: { command: file },
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (error) {
    // ENOENT/ENOTDIR/EACCES: nothing there we can see, so not a directory.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return false;
    throw error;
  }
}

/** The kernel reads this much of a file to find its `#!` line (BINPRM_BUF_SIZE). */
const SHEBANG_BYTES = 256;

/**
 * A script whose `#!` line names an interpreter that is not there fails exec with ENOENT, which reads as if the
 * script itself were missing: refused here by name instead.
 */
export function checkInterpreter(executable: string): void {
  const head = Buffer.alloc(SHEBANG_BYTES);
  let length: number;
  try {
    const fd = openSync(executable, 'r');
    try {
      length = readSync(fd, head, 0, SHEBANG_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    // EACCES: executable but not readable (exec may still work); the kernel decides, as it would anyway.
    if ((error as NodeJS.ErrnoException).code === 'EACCES') return;
    throw error;
  }
  if (length < 3 || head[0] !== 0x23 || head[1] !== 0x21) return;
  const line = head.subarray(2, length).toString('latin1').split('\n')[0] ?? '';
  const interpreter = line.trim().split(/[ \t]/)[0] ?? '';
  if (interpreter === '' || isExecutableFile(interpreter)) return;
  throw new CorralError('INTERPRETER_NOT_FOUND', `Cannot run "${executable}": its #! line names ${interpreter}, which is not an executable file.`, {
    details: { command: executable, interpreter },
  });
}

/** Linux's cap on the space exec gives arguments and environment together: 3/4 of the 8 MiB _STK_LIM. */
const EXEC_STRINGS_CAP_BYTES = (8 * 1024 * 1024 * 3) / 4;
/** Pages exec always allows, however small the stack limit (ARG_MAX in the kernel); also one string's cap. */
const EXEC_MIN_PAGES = 32;
const POINTER_BYTES = 8;

/**
 * The kernel's exec limits (fs/exec.c), checked before spawning so E2BIG comes back as a caller's mistake: each
 * argument and `NAME=value` string, with its NUL, at most MAX_ARG_STRLEN (32 pages); all of them, plus a pointer
 * each, within a quarter of the stack limit (at least 32 pages, at most 6 MiB).
 */
function checkExecLimits(argv: readonly string[], env: Record<string, string>): void {
  const pageSize = native.pageSize();
  const maxString = EXEC_MIN_PAGES * pageSize;
  const strings = [...argv, ...Object.entries(env).map(([name, value]) => `${name}=${value}`)];
  let total = 0;
  for (const [index, value] of strings.entries()) {
    const bytes = Buffer.byteLength(value) + 1;
    if (bytes > maxString) {
      const what = index < argv.length ? `argument ${index}` : `environment variable ${value.slice(0, value.indexOf('='))}`;
      throw new CorralError('ARGUMENT_TOO_LONG', `${what} is ${bytes - 1} bytes; the kernel takes at most ${maxString - 1} per argument.`, {
        details: { index, bytes: bytes - 1, limit: maxString - 1 },
      });
    }
    total += bytes;
  }
  const stack = native.getResourceLimit('stack').soft;
  const space = Math.max(EXEC_MIN_PAGES * pageSize, Math.min(EXEC_STRINGS_CAP_BYTES, stack / 4)) - (strings.length + 1) * POINTER_BYTES;
  // The program's own path is copied too (argv[0] usually names it, so it counts twice at most).
  total += Buffer.byteLength(argv[0] ?? '') + 1;
  if (total > space) {
    throw new CorralError('ARGUMENT_TOO_LONG', `The arguments and environment take ${total} bytes; the kernel allows ${space} here.`, {
      details: { bytes: total, limit: space },
    });
  }
}
