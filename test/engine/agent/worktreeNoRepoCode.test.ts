// Nothing of a repository runs in the daemon (issue 16): creating and removing a task worktree runs git with the
// repo's hooks, fsmonitor and its own filter drivers disabled. Real git, a real repo whose post-checkout hook writes
// a file and starts a background process, and whose smudge/clean filter does the same.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addWorktree, removeWorktree } from '../../../src/engine/agent/worktree.js';
import { listPids, readEnvironValue } from '../../../src/engine/process/procfs.js';

/** How long a hook that did run would need to write its file and start its process: generous for a loaded machine. */
const HOOK_SETTLE_MS = 1_500;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, stdio: 'ignore' });
}

/** Processes whose environment carries the test's marker (what the hook and filter start). */
function markedProcesses(marker: string): number[] {
  return listPids().filter((pid) => readEnvironValue(pid, 'CORRAL_HOOK_TEST') === marker);
}

function makeRepo(base: string, marker: string): string {
  const repo = join(base, 'repo');
  execFileSync('git', ['init', '-q', repo]);
  writeFileSync(join(repo, '.gitattributes'), '*.txt filter=evil\n');
  writeFileSync(join(repo, 'a.txt'), 'hello\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'init');
  const hook = join(repo, '.git', 'hooks', 'post-checkout');
  // The hook leaves a file and a background process behind; both must never exist.
  writeFileSync(hook, `#!/bin/sh\necho ran > ${join(base, 'hook-ran')}\n(CORRAL_HOOK_TEST=${marker} setsid sleep 300 </dev/null >/dev/null 2>&1 &)\n`);
  chmodSync(hook, 0o755);
  const filter = `sh -c 'echo ran > ${join(base, 'filter-ran')}; (CORRAL_HOOK_TEST=${marker} setsid sleep 300 </dev/null >/dev/null 2>&1 &); cat'`;
  git(repo, 'config', 'filter.evil.smudge', filter);
  git(repo, 'config', 'filter.evil.clean', filter);
  git(repo, 'config', 'core.fsmonitor', `${join(base, 'fsmonitor.sh')}`);
  writeFileSync(join(base, 'fsmonitor.sh'), `#!/bin/sh\necho ran > ${join(base, 'fsmonitor-ran')}\n`);
  chmodSync(join(base, 'fsmonitor.sh'), 0o755);
  return repo;
}

test('creating and removing a task worktree runs none of the repo’s hooks, filters or fsmonitor: no file, no process', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-hooks-')));
  const marker = `hooks-${process.pid}-${Date.now()}`;
  try {
    const repo = makeRepo(base, marker);
    const path = join(base, 'worktrees', 'task-1');
    await addWorktree({ repo, branch: 'task-1', keep: false }, path);
    assert.equal(readFileSync(join(path, 'a.txt'), 'utf8'), 'hello\n', 'the worktree has the committed file, unfiltered');
    // Dirty it so that remove has to look at content (the clean filter's moment).
    writeFileSync(join(path, 'a.txt'), 'changed\n');
    await removeWorktree(repo, path);
    assert.equal(existsSync(path), false, 'the worktree is removed');
    await sleep(HOOK_SETTLE_MS);
    for (const file of ['hook-ran', 'filter-ran', 'fsmonitor-ran']) {
      assert.equal(existsSync(join(base, file)), false, `${file}: repository code ran in the daemon`);
    }
    assert.deepEqual(markedProcesses(marker), [], 'a process started by the repository outlived the worktree operation');
  } finally {
    for (const pid of markedProcesses(marker)) process.kill(pid, 'SIGKILL');
    rmSync(base, { recursive: true, force: true });
  }
});

test('the same repository does run its post-checkout hook under plain git (the test can fail)', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-hooks-')));
  const marker = `hooks-control-${process.pid}-${Date.now()}`;
  try {
    const repo = makeRepo(base, marker);
    git(repo, 'worktree', 'add', '-q', '-b', 'task-2', join(base, 'plain'));
    assert.equal(existsSync(join(base, 'hook-ran')), true, 'plain git ran the hook');
    assert.equal(existsSync(join(base, 'filter-ran')), true, 'plain git ran the smudge filter');
  } finally {
    // The hook's sleep is ours to end: found by the marker it carries.
    for (let i = 0; i < 50 && markedProcesses(marker).length === 0; i += 1) await sleep(20);
    for (const pid of markedProcesses(marker)) process.kill(pid, 'SIGKILL');
    rmSync(base, { recursive: true, force: true });
  }
});
