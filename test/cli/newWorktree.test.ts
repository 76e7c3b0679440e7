// `corral new --profile codex --worktree REPO:BRANCH`: the CLI's way to the same task-worktree create as
// POST /sessions/agent and MCP create_session. The CLI from the sources against a real daemon, the real `codex`
// binary (CODEX_BIN or node_modules) against the fake OpenAI API.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { codexProviderArgs, startFakeOpenAI } from '../helpers/fakeOpenAI.js';
import type { FakeServer } from '../helpers/fakeProvider.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';

const CODEX = process.env.CODEX_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'codex');
const KEY = 'sk-corral-cli-worktree-0123456789abcdef';
const TIMEOUT_MS = 60_000;

let daemon: DaemonHandle;
let fake: FakeServer;

before(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  daemon = await startDaemon();
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
  await fake.close();
});

/** The CLI as a child process; async, since the fake API answering the agent lives in this process. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CORRAL_URL: daemon.url, CORRAL_TOKEN: daemon.token };
  delete env.CORRAL_DATA_DIR;
  const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('new --profile codex --worktree runs the agent in a task worktree; its end removes the worktree', async () => {
  const repo = join(daemon.root, 'cli-repo');
  mkdirSync(repo);
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'hello\n');
  git('add', 'README');
  git('commit', '-qm', 'first');

  const created = await cli([
    'new', '--json', '--profile', 'codex', '--task', 'cli-wt', '--isolated-home', '--pre-answer', '--worktree', `${repo}:task/cli`,
    '--env', `OPENAI_API_KEY=${KEY}`, '--env', 'LANG=C.UTF-8', '--',
    CODEX,
    ...codexProviderArgs(fake.url),
  ]);
  assert.equal(created.code, 0, created.stderr);
  const session = JSON.parse(created.stdout) as SessionInfo;
  assert.equal(session.profile, 'codex');
  assert.ok(existsSync(join(session.cwd, 'README')), 'the session runs in the worktree');

  const ready = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${session.id}/wait`, { states: ['ready'], timeoutMs: TIMEOUT_MS });
  assert.ok(ready.body.matched, 'ready');
  const prompt = await cli(['prompt', session.id, 'hello from the cli']);
  assert.equal(prompt.code, 0, prompt.stderr);
  assert.match(prompt.stdout, /echo: hello from the cli/);

  const ended = await daemon.request<{ ended: SessionInfo[] }>('DELETE', '/api/v1/tasks/cli-wt');
  assert.equal(ended.status, 200);
  assert.ok(!existsSync(session.cwd), 'the worktree was removed');
  assert.match(git('branch', '--list', 'task/cli'), /task\/cli/);
});

test('new --worktree without an agent profile is a usage error', async () => {
  const refused = await cli(['new', '--worktree', `${daemon.root}:task/x`, '--', 'true']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--worktree is for agent sessions/);
});
