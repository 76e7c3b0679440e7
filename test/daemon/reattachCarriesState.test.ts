// What a session carries across a daemon restart besides its output (issue 14), with real daemon processes killed
// with kill -9: its lifetime and idle timers count from its own start and last activity (not from the reattach), a
// pipe whose stdin was closed stays closed, and a Claude task session still removes its worktree when it ends.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { REPO_ROOT, startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';
import { startFakeAnthropic } from '../helpers/fakeAnthropic.js';

/**
 * The limits, and the downtime that outlasts them. After the restart a session whose timers carried over is due at
 * once; one whose timers restarted would need the whole limit again, longer than the wait allows.
 */
const LIMIT_MS = 25_000;
const DOWNTIME_MS = LIMIT_MS + 1_000;
const AFTER_RESTART_WAIT_MS = 15_000;

async function waitTerminated(daemon: DaemonHandle, id: string, timeoutMs: number): Promise<SessionInfo> {
  const wait = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${id}/wait`, { states: ['terminated'], timeoutMs });
  assert.equal(wait.body.matched, true, `${id} still ${wait.body.session.state} ${timeoutMs} ms after the restart`);
  return wait.body.session;
}

test('lifetime and idle timeouts count from the session\'s own start and last activity across a kill -9 restart', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const lifetime = await first.request<SessionInfo>('POST', '/api/v1/sessions', {
      command: ['/bin/sh', '-c', 'echo up; exec sleep 1000'],
      cwd: first.root,
      limits: { maxLifetimeMs: LIMIT_MS },
    });
    assert.equal(lifetime.status, 201, JSON.stringify(lifetime.body));
    const idle = await first.request<SessionInfo>('POST', '/api/v1/sessions', {
      command: ['/bin/sh', '-c', 'exec sleep 1000'],
      cwd: first.root,
      limits: { idleTimeoutMs: LIMIT_MS },
    });
    assert.equal(idle.status, 201, JSON.stringify(idle.body));
    // The rows the next daemon reads (the periodic save writes last activity) are in before the crash.
    await sleep(1_500);
    await first.crash();
    await sleep(DOWNTIME_MS);
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const [ended, idled] = await Promise.all([
      waitTerminated(second, lifetime.body.id, AFTER_RESTART_WAIT_MS),
      waitTerminated(second, idle.body.id, AFTER_RESTART_WAIT_MS),
    ]);
    assert.equal(ended.exit?.reason, 'timeout');
    assert.equal(idled.exit?.reason, 'idle_timeout');
  } finally {
    await stopLeavingNothing(first, second);
  }
});

test('a pipe session whose stdin was closed keeps refusing input after a kill -9 restart', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const created = await first.request<SessionInfo>('POST', '/api/v1/sessions', {
      kind: 'pipe',
      command: ['/bin/sh', '-c', 'cat; echo stdin-closed; exec sleep 1000'],
      cwd: first.root,
    });
    const id = created.body.id;
    const closed = await first.request('POST', `/api/v1/sessions/${id}/input`, { data: 'before\n', eof: true });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const seen = await first.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, { pattern: 'stdin-closed', since: 0, timeoutMs: 30_000 });
    assert.equal(seen.body.matched, true);
    await first.crash();
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const after = await second.request<{ error: { code: string } }>('POST', `/api/v1/sessions/${id}/input`, { data: 'after\n' });
    assert.equal(after.status, 409, JSON.stringify(after.body));
    assert.equal(after.body.error.code, 'INPUT_CLOSED');
    const info = await second.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
    assert.notEqual(info.body.state, 'terminated', 'the program still runs');
  } finally {
    await stopLeavingNothing(first, second);
  }
});

test('a Claude task session reattached after kill -9 still removes its worktree when it ends', async () => {
  const fake = await startFakeAnthropic();
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const repo = join(first.root, 'repo');
    mkdirSync(repo);
    const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README'), 'hello\n');
    git('add', 'README');
    git('commit', '-qm', 'first');
    const created = await first.request<SessionInfo>('POST', '/api/v1/sessions/claude', {
      taskId: 'reattach-worktree',
      environment: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' },
      authToken: 'sk-ant-corral-reattach-0123456789abcdef',
      home: 'isolated',
      preAnswer: true,
      executable: join(REPO_ROOT, 'node_modules', '.bin', 'claude'),
      worktree: { repo, branch: 'task/reattach' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const worktree = created.body.cwd;
    assert.ok(existsSync(join(worktree, 'README')), 'the session runs in its worktree');
    await first.crash();
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const live = await second.request<SessionInfo>('GET', `/api/v1/sessions/${created.body.id}`);
    assert.notEqual(live.body.state, 'terminated', 'reattached');
    const ended = await second.request<SessionInfo>('DELETE', `/api/v1/sessions/${created.body.id}`);
    assert.equal(ended.body.state, 'terminated');
    // DELETE answers once the session's cleanup ran.
    assert.equal(existsSync(worktree), false, 'the worktree was removed');
    assert.doesNotMatch(git('worktree', 'list'), /task-reattach|reattach-/, 'git no longer lists it');
  } finally {
    await stopLeavingNothing(first, second);
    await fake.close();
  }
});
