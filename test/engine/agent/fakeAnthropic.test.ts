// Smoke test of the Claude harness: the real `claude` CLI in print mode answers through the fake Anthropic API.
// Proves the offline env, the pre-answered HOME and the SSE format are good enough for the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startFakeAnthropic, type FakeAnthropic } from '../../helpers/fakeAnthropic.js';
import { claudeEnv, prepareClaudeHome } from '../../helpers/claudeHome.js';

const CLAUDE_BIN = resolve('node_modules/.bin/claude');
const API_KEY = 'sk-ant-api03-fake-key-for-tests-0123456789';
// The CLI answers in well under a second against the fake; 60 s only guards a hung CI machine.
const RUN_TIMEOUT_MS = 60_000;

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: unknown[];
  readonly stderr: string;
}

/** Runs `claude -p` to completion (or kills it at the timeout) and parses its stream-json output. */
function runPrint(args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(CLAUDE_BIN, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
      resolveRun({ code, signal, lines, stderr });
    });
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function withHarness(use: (ctx: { fake: FakeAnthropic; cwd: string; env: Record<string, string> }) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'corral-claude-'));
  const fake = await startFakeAnthropic();
  try {
    const home = join(root, 'home');
    const cwd = join(root, 'project');
    mkdirSync(cwd);
    prepareClaudeHome({ dir: home, projectDirs: [cwd], apiKey: API_KEY, trustProjects: true, approveApiKey: true });
    await use({ fake, cwd, env: claudeEnv({ home, baseUrl: fake.url, apiKey: API_KEY }) });
  } finally {
    await fake.close();
    rmSync(root, { recursive: true, force: true });
  }
}

test('claude -p answers "echo: hello" through the fake Anthropic API', async () => {
  await withHarness(async ({ fake, cwd, env }) => {
    const result = await runPrint(['-p', 'hello', '--output-format', 'stream-json', '--verbose'], { cwd, env });
    assert.equal(result.code, 0, `claude exited ${String(result.code)} (${String(result.signal)}): ${result.stderr}`);
    const final = result.lines.filter(isRecord).find((line) => line.type === 'result');
    assert.ok(isRecord(final), 'no result line');
    assert.equal(final.is_error, false);
    assert.equal(final.result, 'echo: hello');
    const messages = fake.requests.filter((r) => r.url.startsWith('/v1/messages'));
    assert.ok(messages.some((r) => r.lastUserText === 'hello'), 'the fake never saw the prompt');
  });
});

test('claude -p runs a Bash tool_use from the fake and reports its output', async () => {
  await withHarness(async ({ fake, cwd, env }) => {
    const args = ['-p', 'bash: echo from-the-tool', '--output-format', 'stream-json', '--verbose', '--allowedTools', 'Bash'];
    const result = await runPrint(args, { cwd, env });
    assert.equal(result.code, 0, result.stderr);
    const final = result.lines.filter(isRecord).find((line) => line.type === 'result');
    assert.ok(isRecord(final));
    assert.equal(final.result, 'tool said: from-the-tool');
    assert.deepEqual(
      fake.requests.map((r) => r.reply),
      ['tool_use', 'tool_result'],
    );
  });
});

test('claude -p reports an API error from the fake as is_error with exit code 1', async () => {
  await withHarness(async ({ cwd, env }) => {
    const result = await runPrint(['-p', 'error 500', '--output-format', 'stream-json', '--verbose'], { cwd, env });
    assert.equal(result.code, 1);
    const final = result.lines.filter(isRecord).find((line) => line.type === 'result');
    assert.ok(isRecord(final));
    assert.equal(final.is_error, true);
  });
});

test('the fake answers non-streaming messages, count_tokens and unknown routes without hanging', async () => {
  const fake = await startFakeAnthropic();
  try {
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const message = await post('/v1/messages', { model: 'm', stream: false, messages: [{ role: 'user', content: 'title please' }] });
    assert.equal(message.status, 200);
    const json = (await message.json()) as { type?: string; content?: { type: string; text?: string }[] };
    assert.equal(json.type, 'message');
    assert.deepEqual(json.content, [{ type: 'text', text: 'echo: title please' }]);
    const count = await post('/v1/messages/count_tokens?beta=true', { messages: [] });
    assert.equal(count.status, 200);
    assert.ok(typeof ((await count.json()) as { input_tokens?: unknown }).input_tokens === 'number');
    const overloaded = await post('/v1/messages', { stream: true, messages: [{ role: 'user', content: 'overloaded' }] });
    assert.equal(overloaded.status, 529);
    assert.deepEqual(await overloaded.json().then((b) => (b as { error?: { type?: string } }).error?.type), 'overloaded_error');
    const unknown = await fetch(`${fake.url}/api/something`);
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    assert.deepEqual(fake.requests.map((r) => r.reply), ['echo', 'count_tokens', 'error', 'other']);
  } finally {
    await fake.close();
  }
});
