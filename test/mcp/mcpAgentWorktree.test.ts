// MCP create_session with a worktree: the same task-worktree create as POST /sessions/agent, for an agent other than
// Claude. The SDK Client over Streamable HTTP against a real daemon, the real `codex` binary (CODEX_BIN or
// node_modules) against the fake OpenAI API; prompt_agent answers in the worktree, terminate_session removes it.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { codexProviderArgs, startFakeOpenAI } from '../helpers/fakeOpenAI.js';
import type { FakeServer } from '../helpers/fakeProvider.js';
import { call, callOk, errorText } from '../helpers/mcpScenarios.js';

const CODEX = process.env.CODEX_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'codex');
const KEY = 'sk-corral-mcp-worktree-0123456789abcdef';
const TIMEOUT_MS = 60_000;

let daemon: DaemonHandle;
let fake: FakeServer;
let client: Client;

before(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  daemon = await startDaemon();
  client = new Client({ name: 'corral-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${daemon.token}` } } }));
});

after(async () => {
  await client.close();
  await daemon.stop();
  daemon.cleanup();
  await fake.close();
});

interface SessionOut {
  id: string;
  cwd: string;
  state: string;
  profile: string;
  agent?: { version: string | null; versionVerified: boolean | null; verifiedVersions: string[]; dialog: unknown; lastError: string | null };
}

test('create_session with a worktree starts a codex session in a task worktree; terminate_session removes it', async () => {
  const repo = join(daemon.root, 'mcp-repo');
  mkdirSync(repo);
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README'), 'hello\n');
  git('add', 'README');
  git('commit', '-qm', 'first');

  const created = await callOk<{ session: SessionOut }>(client, 'create_session', {
    profile: 'codex',
    command: [
      CODEX,
      ...codexProviderArgs(fake.url),
    ],
    env: { LANG: 'C.UTF-8' },
    taskId: 'mcp-wt',
    agent: { authToken: KEY, isolatedHome: true, preAnswer: true },
    worktree: { repo, branch: 'task/mcp' },
  });
  const session = created.session;
  assert.equal(session.profile, 'codex');
  assert.notEqual(session.cwd, repo);
  assert.ok(existsSync(join(session.cwd, 'README')), 'the session runs in the worktree');

  const ready = await callOk<{ matched: boolean }>(client, 'wait_for', { sessionId: session.id, states: ['ready'], timeoutMs: TIMEOUT_MS });
  assert.equal(ready.matched, true);
  const reply = await callOk<{ reply: string }>(client, 'prompt_agent', { sessionId: session.id, text: 'hello over mcp', timeoutMs: TIMEOUT_MS });
  assert.equal(reply.reply, 'echo: hello over mcp');
  // The summary carries the agent block: the CLI's version (read in the background) against the verified ones.
  assert.ok(Array.isArray(session.agent?.verifiedVersions), JSON.stringify(session));
  const listed = async (): Promise<SessionOut | undefined> =>
    (await callOk<{ sessions: SessionOut[] }>(client, 'list_sessions', {})).sessions.find((s) => s.id === session.id);
  const versionUntil = Date.now() + TIMEOUT_MS;
  let summary = await listed();
  while (summary?.agent?.version == null && Date.now() < versionUntil) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    summary = await listed();
  }
  assert.match(summary?.agent?.version ?? '', /^\d+\.\d+\.\d+/, JSON.stringify(summary?.agent));
  assert.equal(summary?.agent?.versionVerified, summary?.agent?.verifiedVersions.includes(summary?.agent?.version ?? ''));
  assert.equal(summary?.agent?.dialog, null);

  await callOk(client, 'terminate_session', { sessionId: session.id });
  // The worktree goes with the session's cleanup, a moment after it ended.
  const until = Date.now() + TIMEOUT_MS;
  while (existsSync(session.cwd) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!existsSync(session.cwd), 'the worktree was removed');
  assert.match(git('branch', '--list', 'task/mcp'), /task\/mcp/, 'the branch stays');
});

test('a worktree with no agent profile is refused before anything is made', async () => {
  const result = await call(client, 'create_session', { command: ['true'], worktree: { repo: daemon.root, branch: 'task/none' } });
  assert.match(errorText(result), /worktree is for agent sessions/);
});
