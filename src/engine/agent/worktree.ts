// A git worktree per task: created before the session's program starts, removed at cleanup unless kept.
// Runs git with argv (never a shell string) and only ever removes the worktree it created. Nothing of the
// repository runs in the daemon: git runs with hooks and the fsmonitor hook disabled (see NO_REPO_CODE).

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

/**
 * The repository is the caller's (an agent may have written it): git must not run its code in the daemon, outside
 * every session's cgroup and limits. `worktree add` runs the post-checkout (and reference-transaction) hooks, and
 * status-like steps the core.fsmonitor command, so both are off: hooks are looked up in /dev/null, a path that can
 * never hold one (git's `core.hooksPath`, pointed at a directory that cannot exist), and fsmonitor is false.
 */
export const NO_REPO_CODE = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

/** The environment git runs with: a session's allowlisted one, never the daemon's own (which may hold credentials). */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...inheritedEnv(process.env), GIT_TERMINAL_PROMPT: '0' };
}

/**
 * Filter drivers the repository's own config defines (a checkout runs `smudge`, a dirtiness check `clean`): each is
 * emptied, so git copies the bytes as they are. A driver the repo marks `required` then fails the checkout, which is
 * the safe answer. Drivers of the operator's global config (git-lfs) are trusted and kept. Reading config runs nothing.
 */
async function repoFilterOverrides(cwd: string): Promise<string[]> {
  let listing: string;
  try {
    ({ stdout: listing } = await run('git', ['config', '--local', '--null', '--get-regexp', String.raw`^filter\.`], { cwd, timeout: GIT_TIMEOUT_MS, env: gitEnv() }));
  } catch (error) {
    // Exit 1: no such key (the common case). Anything else (not a repository) is the caller's error to report.
    if ((error as { code?: unknown }).code === 1) return [];
    throw error;
  }
  const drivers = new Set<string>();
  for (const entry of listing.split('\0')) {
    const key = entry.split('\n', 1)[0] ?? '';
    const dot = key.lastIndexOf('.');
    if (key.startsWith('filter.') && dot > 'filter.'.length) drivers.add(key.slice('filter.'.length, dot));
  }
  return [...drivers].flatMap((driver) => ['smudge', 'clean', 'process'].flatMap((field) => ['-c', `filter.${driver}.${field}=`]));
}

async function git(args: string[], cwd: string): Promise<string> {
  const overrides = [...NO_REPO_CODE, ...(await repoFilterOverrides(cwd))];
  const { stdout } = await run('git', [...overrides, ...args], { cwd, timeout: GIT_TIMEOUT_MS, env: gitEnv() });
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
