// A git worktree per task: created before the session's program starts, removed at cleanup unless kept.
// Runs git with argv (never a shell string) and only ever removes the worktree it created.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { CorralError } from '../../protocol/errors.js';
import { inheritedEnv } from '../security/childEnv.js';

const run = promisify(execFile);
/** git worktree add/remove on a big repo can take seconds; past this something is wrong (a lock, a hook). */
const GIT_TIMEOUT_MS = 60_000;

export interface WorktreeSpec {
  repo: string;
  branch: string;
  /** Keep the worktree directory at cleanup (the branch is always kept). */
  keep: boolean;
}

async function git(args: string[], cwd: string): Promise<string> {
  // The repo is the caller's, so its hooks and config may run: with a session's allowlisted environment, never the
  // daemon's own (which may hold credentials).
  const env = { ...inheritedEnv(process.env), GIT_TERMINAL_PROMPT: '0' };
  const { stdout } = await run('git', args, { cwd, timeout: GIT_TIMEOUT_MS, env });
  return stdout;
}

/** Creates `path` as a worktree of `repo` on `branch` (created from HEAD when it does not exist yet). */
export async function addWorktree(spec: WorktreeSpec, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    const exists = await git(['branch', '--list', spec.branch], spec.repo);
    const args = exists.trim() === '' ? ['worktree', 'add', '-b', spec.branch, path] : ['worktree', 'add', path, spec.branch];
    await git(args, spec.repo);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new CorralError('VALIDATION_FAILED', `Cannot create a git worktree of ${spec.repo} on ${spec.branch}: ${stderr.trim()}`, {
      details: { repo: spec.repo, branch: spec.branch },
      cause: error,
    });
  }
}

/** Removes the worktree (uncommitted changes in it are discarded; commits stay on the branch). */
export async function removeWorktree(repo: string, path: string): Promise<void> {
  if (!existsSync(path)) return;
  await git(['worktree', 'remove', '--force', path], repo);
}
