// Turns a create request into a session spec: the profile, the checked cwd, a fresh id, the argv with its resolved
// executable, the child's environment (explicit, allowed and internal), an agent's launch additions and the shell
// integration injected at spawn. It starts nothing; a refused request throws before any process exists.

import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { CorralError } from '../protocol/errors.js';
import type { CreateSessionRequest } from '../protocol/api.js';
import type { AgentService } from './agent/AgentService.js';
import { HOOK_ENV } from './agent/claudeSetup.js';
import type { StoredSpec } from './ports.js';
import type { ProfileRegistry } from './profiles/ProfileRegistry.js';
import { buildChildEnv } from './security/childEnv.js';
import type { CwdPolicy } from './security/cwdPolicy.js';
import { SESSION_MARKER_ENV, type SessionSpec } from './Session.js';
import { sessionDir } from './sessionFiles.js';
import { integrateShellAtSpawn } from './shell/shellIntegration.js';

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
  const childEnv = buildChildEnv({
    daemonEnv: process.env,
    explicit: explicitEnv,
    allowed: context.allowEnv,
    internal: {
      [SESSION_MARKER_ENV]: id,
      ...(kind === 'pty' ? { TERM: 'xterm-256color', COLORTERM: 'truecolor' } : {}),
      ...launch.internalEnv,
    },
  });
  const argv = (request.command ?? profile.command).map((arg) =>
    arg === '${SHELL}' ? (process.env.SHELL ?? '/bin/bash') : arg,
  );
  const [file, ...args] = argv;
  if (file === undefined) {
    throw new CorralError('VALIDATION_FAILED', `Profile ${profile.name} has no default command: give "command".`);
  }
  const executable = resolveExecutable(file, childEnv.PATH ?? '', cwd);
  const shell = integrateShellAtSpawn({
    dir: join(sessionDir(context.dataDir, id), 'shell'),
    stateDetection: profile.stateDetection,
    kind,
    argv: [executable, ...args, ...launch.args],
    callerEnv: explicitEnv,
  });
  Object.assign(childEnv, shell.env);
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
    },
    ...(shell.integration === undefined ? {} : { shellIntegration: shell.integration }),
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
  };
}

function newSessionId(): string {
  // 128 random bits, never derived from a pid (PRODUCT §1).
  return `s_${randomBytes(16).toString('base64url')}`;
}

/** The executable `file` names: a path (relative to cwd) or a name looked up in PATH. */
function resolveExecutable(file: string, path: string, cwd: string): string {
  const executable = (candidate: string): boolean => {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return true;
    } catch (error) {
      // ENOENT/EACCES/ENOTDIR: not an executable we can run; keep looking.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return false;
      throw error;
    }
  };
  if (file.includes('/')) {
    const full = isAbsolute(file) ? file : resolvePath(cwd, file);
    if (executable(full)) return full;
  } else {
    for (const dir of path.split(delimiter)) {
      if (dir === '') continue;
      const full = join(dir, file);
      if (executable(full)) return full;
    }
  }
  throw new CorralError('COMMAND_NOT_FOUND', `Cannot run "${file}": no such executable${file.includes('/') ? '' : ' in PATH'}.`, {
    details: { command: file },
  });
}
