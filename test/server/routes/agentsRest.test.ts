// Codex and Gemini sessions through a real daemon's REST API and the real CLIs: the same calls as for Claude
// (POST /sessions with the profile and agent options, wait, prompt, a raw key through /input the moment
// waiting_input is reported, DELETE), the auth token redacted from every reply and log, the process tree gone.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../../helpers/daemonHarness.js';
import { codexProviderArgs, startFakeOpenAI } from '../../helpers/fakeOpenAI.js';
import { startFakeGemini } from '../../helpers/fakeGemini.js';
import type { FakeServer } from '../../helpers/fakeProvider.js';
import { pidGone, treePids } from '../../helpers/agentTestKit.js';
import type { SessionInfo } from '../../../src/protocol/sessionTypes.js';

/** A loaded 2-core machine can take many seconds to start a CLI and run a turn. */
const TIMEOUT_MS = 60_000;
const CODEX_KEY = 'sk-corral-codex-rest-0123456789abcdef';
const GEMINI_KEY = 'gemini-corral-rest-key-0123456789';

let daemon: DaemonHandle;
let openai: FakeServer;
let gemini: FakeServer;

before(async () => {
  [openai, gemini] = await Promise.all([startFakeOpenAI({ apiKey: CODEX_KEY }), startFakeGemini({ apiKey: GEMINI_KEY })]);
  daemon = await startDaemon();
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
  await Promise.all([openai.close(), gemini.close()]);
});

interface Agent {
  profile: string;
  key: string;
  command: () => string[];
  env: () => Record<string, string>;
  keyEnv: string;
}

const AGENTS: Agent[] = [
  {
    profile: 'codex',
    key: CODEX_KEY,
    keyEnv: 'OPENAI_API_KEY',
    command: () => [
      process.env.CODEX_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'codex'),
      '-a', 'on-request',
      ...codexProviderArgs(openai.url, { noRetries: true }),
    ],
    env: () => ({ LANG: 'C.UTF-8' }),
  },
  {
    profile: 'gemini',
    key: GEMINI_KEY,
    keyEnv: 'GEMINI_API_KEY',
    command: () => [process.env.GEMINI_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'gemini')],
    env: () => ({ LANG: 'C.UTF-8', GOOGLE_GEMINI_BASE_URL: gemini.url }),
  },
];

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

describe('POST /api/v1/sessions/agent: the same create, task worktree included, for every agent', { concurrency: true }, () => {
  for (const agent of AGENTS) {
    it(`${agent.profile}: isolated, pre-answered, in a task worktree; prompt; DELETE /tasks removes the worktree and every process`, async () => {
      const { repo, git } = repoWithOneCommit(`wt-${agent.profile}`);
      const [executable, ...args] = agent.command();
      const body = {
        agent: agent.profile,
        taskId: `wt-${agent.profile}`,
        terminalSize: [120, 40],
        environment: agent.env(),
        authToken: agent.key,
        home: 'isolated',
        preAnswer: true,
        executable,
        args,
        worktree: { repo, branch: `task/${agent.profile}` },
      };
      const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions/agent', body);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const info = created.body;
      assert.equal(info.profile, agent.profile);
      assert.equal(info.env[agent.keyEnv], '[redacted]');
      assert.ok(existsSync(join(info.cwd, 'README')), 'the session runs in the worktree');
      assert.notEqual(info.cwd, repo);
      const again = await daemon.request<SessionInfo>('POST', '/api/v1/sessions/agent', body);
      assert.equal(again.status, 200);
      assert.equal(again.body.id, info.id, 'taskId is idempotent');

      // The worktree is a git repo: without preAnswer both CLIs would ask to trust it first.
      const ready = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${info.id}/wait`, { states: ['ready'], timeoutMs: TIMEOUT_MS });
      assert.ok(ready.body.matched, `ready: ${JSON.stringify(ready.body.session?.stateReason)}`);
      const reply = await daemon.request<{ state: string; reply: string }>('POST', `/api/v1/sessions/${info.id}/prompt`, { text: 'in a worktree', timeoutMs: TIMEOUT_MS });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.reply, 'echo: in a worktree');

      assert.ok(info.pid !== null);
      const tree = await treePids(info.pid);
      const ended = await daemon.request<{ ended: SessionInfo[] }>('DELETE', `/api/v1/tasks/wt-${agent.profile}`);
      assert.equal(ended.status, 200);
      assert.equal(ended.body.ended[0]?.state, 'terminated');
      assert.deepEqual(tree.filter((pid) => !pidGone(pid)), [], 'no process of the session is left');
      assert.ok(!existsSync(info.cwd), 'the worktree was removed');
      assert.match(git('branch', '--list', `task/${agent.profile}`), new RegExp(`task/${agent.profile}`), 'the branch stays');
      assert.ok(!daemon.stderr().includes(agent.key), 'the token is in no log line');
    });
  }

  it('a profile that is not an agent is refused before any worktree is made', async () => {
    const { repo, git } = repoWithOneCommit('wt-shell');
    const refused = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions/agent', { agent: 'shell', worktree: { repo, branch: 'task/shell' } });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
    const unknown = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions/agent', { agent: 'nosuchagent', worktree: { repo, branch: 'task/none' } });
    assert.equal(unknown.body.error.code, 'PROFILE_NOT_FOUND');
    assert.equal(git('worktree', 'list').trim().split('\n').length, 1, 'no worktree was added');
    assert.equal(git('branch', '--list', 'task/*').trim(), '', 'no branch was made');
  });
});

describe('agent sessions over REST', { concurrency: true }, () => {
  for (const agent of AGENTS) {
    it(`${agent.profile}: create, prompt, approve by a raw key at the reported moment, DELETE kills the tree`, async () => {
      const cwd = join(daemon.root, `rest-${agent.profile}`);
      mkdirSync(cwd, { recursive: true });
      const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', {
        profile: agent.profile,
        command: agent.command(),
        cwd,
        env: agent.env(),
        cols: 120,
        rows: 40,
        taskId: `rest-${agent.profile}`,
        agent: { authToken: agent.key, isolatedHome: true, preAnswer: true },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const info = created.body;
      assert.equal(info.env[agent.keyEnv], '[redacted]');
      assert.ok(!JSON.stringify(info).includes(agent.key), 'the token is in no reply');

      const ready = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${info.id}/wait`, { states: ['ready'], timeoutMs: TIMEOUT_MS });
      assert.ok(ready.body.matched, 'ready');

      const reply = await daemon.request<{ state: string; reply: string }>('POST', `/api/v1/sessions/${info.id}/prompt`, { text: 'over rest', timeoutMs: TIMEOUT_MS });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.state, 'idle');
      assert.equal(reply.body.reply, 'echo: over rest');

      // prompt returns when waiting_input is reported; the raw Enter goes in right then.
      const asked = await daemon.request<{ state: string }>('POST', `/api/v1/sessions/${info.id}/prompt`, { text: 'bash: touch by-rest-key.txt', timeoutMs: TIMEOUT_MS });
      assert.equal(asked.body.state, 'waiting_input');
      const input = await daemon.request('POST', `/api/v1/sessions/${info.id}/input`, { keys: ['Enter'] });
      assert.equal(input.status, 200);
      const idle = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${info.id}/wait`, { states: ['idle'], timeoutMs: TIMEOUT_MS });
      assert.ok(idle.body.matched, 'idle after the approved tool ran');
      assert.ok(existsSync(join(cwd, 'by-rest-key.txt')), 'the raw key approved the command');

      assert.ok(info.pid !== null);
      const tree = await treePids(info.pid);
      const ended = await daemon.request<SessionInfo>('DELETE', `/api/v1/sessions/${info.id}`);
      assert.equal(ended.status, 200);
      assert.equal(ended.body.state, 'terminated');
      assert.deepEqual(tree.filter((pid) => !pidGone(pid)), [], 'no process of the session is left');
      assert.ok(!daemon.stderr().includes(agent.key), 'the token is in no log line');
    });
  }
});
