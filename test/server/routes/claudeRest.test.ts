// POST /api/v1/sessions/claude through a real daemon and the real CLI: SessionConfig fields (taskId, projectPath,
// terminalSize in both shapes, environment, authToken redacted), taskId idempotence, prompt over REST, stats, and
// a task worktree removed by DELETE /tasks/{taskId} together with every claude process.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../../helpers/daemonHarness.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../helpers/fakeAnthropic.js';
import type { SessionInfo } from '../../../src/protocol/sessionTypes.js';

const CLAUDE = process.env.CLAUDE_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'claude');
const API_KEY = 'sk-ant-corral-rest-0123456789abcdefghijkl';
/** A loaded 2-core machine can take many seconds to start the CLI and run a turn. */
const TIMEOUT_MS = 60_000;
/** In the daemon's own environment only: no session or helper process may see it. */
const DAEMON_SECRET = 'daemon-only-5f3c1e0b9d';

let daemon: DaemonHandle;
let fake: FakeAnthropic;

before(async () => {
  fake = await startFakeAnthropic();
  daemon = await startDaemon({ env: { DAEMON_ONLY_SECRET: DAEMON_SECRET } });
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
  await fake.close();
});

function pidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: the process is gone.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw error;
  }
}

/** A git repo under the daemon's root with one commit on main, and a git runner in it. */
function repoWithOneCommit(name: string): { repo: string; git: (...args: string[]) => string } {
  const repo = join(daemon.root, name);
  mkdirSync(repo);
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'hello\n');
  git('add', 'README');
  git('commit', '-qm', 'first');
  return { repo, git };
}

describe('POST /api/v1/sessions/claude', () => {
  it('creates an isolated, pre-answered session in a task worktree; prompt over REST; DELETE /tasks removes worktree and processes', async () => {
    const { repo, git } = repoWithOneCommit('repo');

    const body = {
      taskId: 'rest-task-1',
      terminalSize: [110, 35],
      environment: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' },
      authToken: API_KEY,
      home: 'isolated',
      preAnswer: true,
      executable: CLAUDE,
      worktree: { repo, branch: 'task/rest-1' },
    };
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions/claude', body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const info = created.body;
    assert.equal(info.profile, 'claude');
    assert.deepEqual([info.cols, info.rows], [110, 35]);
    assert.equal(info.env.ANTHROPIC_API_KEY, '[redacted]');
    assert.ok(!JSON.stringify(info).includes(API_KEY), 'the token is in no reply');
    assert.ok(existsSync(join(info.cwd, 'README')), 'the session runs in the worktree');
    assert.notEqual(info.cwd, repo);

    const again = await daemon.request<SessionInfo>('POST', '/api/v1/sessions/claude', { ...body, terminalSize: { cols: 90, rows: 30 } });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, info.id, 'taskId is idempotent');

    const ready = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${info.id}/wait`, { states: ['ready'], timeoutMs: TIMEOUT_MS });
    assert.ok(ready.body.matched);
    const prompt = await daemon.request<{ state: string; reply: string; session: SessionInfo }>('POST', `/api/v1/sessions/${info.id}/prompt`, {
      text: 'over rest',
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(prompt.status, 200, JSON.stringify(prompt.body));
    assert.equal(prompt.body.state, 'idle');
    assert.equal(prompt.body.reply, 'echo: over rest');

    const stats = await daemon.request<{ byState: Record<string, number>; prompts: { prompts: number } }>('GET', '/api/v1/stats/claude');
    assert.equal(stats.body.byState.idle, 1);
    assert.equal(stats.body.prompts.prompts, 1);
    const history = await daemon.request<{ commands: { kind: string; text: string }[] }>('GET', `/api/v1/sessions/${info.id}/commands`);
    assert.deepEqual(history.body.commands.map((c) => [c.kind, c.text]), [['prompt', 'over rest']]);

    const noDialog = await daemon.request<{ error: { code: string } }>('POST', `/api/v1/sessions/${info.id}/answer`, { choice: 1 });
    assert.equal(noDialog.status, 409);
    assert.equal(noDialog.body.error.code, 'INVALID_STATE');

    const pid = info.pid;
    assert.ok(pid !== null);
    const ended = await daemon.request<{ ended: SessionInfo[] }>('DELETE', '/api/v1/tasks/rest-task-1');
    assert.equal(ended.status, 200);
    assert.equal(ended.body.ended[0]?.state, 'terminated');
    assert.ok(pidGone(pid), 'no claude process left');
    assert.ok(!existsSync(info.cwd), 'the worktree was removed');
    assert.match(git('branch', '--list', 'task/rest-1'), /task\/rest-1/, 'the branch stays');
    assert.ok(!daemon.stderr().includes(API_KEY), 'the token is in no log line');
  });

  it("runs none of the repo's hooks when it makes the worktree (issue 16: nothing of a repository runs in the daemon)", async () => {
    const { repo } = repoWithOneCommit('hooked');
    const seen = join(daemon.root, 'hook-env.txt');
    writeFileSync(join(repo, '.git', 'hooks', 'post-checkout'), `#!/bin/sh\nenv > '${seen}'\n`);
    chmodSync(join(repo, '.git', 'hooks', 'post-checkout'), 0o755);

    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions/claude', {
      executable: '/bin/sleep',
      args: ['30'],
      worktree: { repo, branch: 'task/hooked' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // git ran with core.hooksPath=/dev/null: the hook (which would have written the daemon's environment) never ran.
    assert.equal(existsSync(seen), false, "the repo's post-checkout hook ran in the daemon");
    assert.ok(existsSync(created.body.cwd), 'the worktree was made all the same');
    await daemon.request('DELETE', `/api/v1/sessions/${created.body.id}`);

    const optionLike = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions/claude', {
      executable: '/bin/sleep',
      args: ['30'],
      worktree: { repo, branch: '--help' },
    });
    assert.equal(optionLike.status, 400, 'a branch that reads as a git option is refused');
    assert.equal(optionLike.body.error.code, 'VALIDATION_FAILED');
  });

  it('refuses a preAnswer without an isolated home and an unknown field, with stable codes', async () => {
    const bad = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions/claude', { preAnswer: true, executable: CLAUDE });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    const unknown = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions/claude', { bogus: 1 });
    assert.equal(unknown.status, 400);
  });
});
