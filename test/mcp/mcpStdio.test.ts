// `corral mcp` over stdio: the SDK Client spawns the CLI (from source through tsx), which reaches a real daemon
// through CORRAL_URL/CORRAL_TOKEN — and, with no daemon, starts one in the background that outlives it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { corralCommand, REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { startFakeAnthropic } from '../helpers/fakeAnthropic.js';
import { call, callOk, defineToolScenarios, errorText, processAlive } from '../helpers/mcpScenarios.js';

const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude');
const API_KEY = 'sk-ant-corral-mcp-0123456789abcdefghijkl';
/** A loaded 2-core machine can take many seconds to start the CLI or run a turn; under the SDK's 60 s request timeout. */
const AGENT_WAIT_MS = 50_000;
/** The SDK client's own per-request timeout for the agent calls: above AGENT_WAIT_MS so the tool's answer arrives first. */
const AGENT_REQUEST_TIMEOUT_MS = 70_000;

/** A daemon started by `corral mcp` stops within its shutdown escalation; bounded so a hang fails the test. */
const STOP_TRIES = 300;

let daemon: DaemonHandle | undefined;
let client: Client | undefined;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not set up`);
  return value;
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('CORRAL_')) env[key] = value;
  }
  return { ...env, ...extra };
}

async function connectStdio(env: Record<string, string>, args: string[] = []): Promise<Client> {
  const { file, args: base } = corralCommand(false);
  const transport = new StdioClientTransport({ command: file, args: [...base, 'mcp', ...args], env, cwd: REPO_ROOT, stderr: 'pipe' });
  const c = new Client({ name: 'corral-test', version: '1.0.0' });
  await c.connect(transport);
  return c;
}

function connect(): Promise<Client> {
  const d = need(daemon, 'daemon');
  return connectStdio(cleanEnv({ CORRAL_URL: d.url, CORRAL_TOKEN: d.token }));
}

before(async () => {
  daemon = await startDaemon();
  client = await connect();
});

after(async () => {
  await client?.close();
  if (daemon !== undefined) {
    assert.equal(await daemon.stop(), 0);
    daemon.cleanup();
  }
});

defineToolScenarios('stdio', {
  daemon: () => need(daemon, 'daemon'),
  client: () => need(client, 'client'),
  connect,
  // Closing a stdio client ends the `corral mcp` process, its REST request to the daemon with it.
  disconnect: (c) => c.close(),
});

/** A data dir nobody runs a daemon on yet, and a workspace root beside it. */
function freshDataDir(prefix: string): { base: string; dataDir: string; root: string } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const root = join(base, 'work');
  mkdirSync(root, { recursive: true });
  return { base, dataDir: join(base, 'data'), root };
}

/**
 * The daemon a test caused `corral mcp` to start: stopped like an operator would with `corral shutdown
 * --end-sessions` (SIGTERM would leave its sessions running under their holders).
 */
async function stopStartedDaemon(pid: number, dataDir: string): Promise<void> {
  const { url } = JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { url: string };
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  const reply = await fetch(`${url}/api/v1/shutdown`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endSessions: true }),
  });
  assert.equal(reply.status, 200, await reply.text());
  for (let i = 0; i < STOP_TRIES && processAlive(pid); i++) await sleep(50);
  assert.equal(processAlive(pid), false, 'the started daemon stopped after POST /api/v1/shutdown');
  assert.equal(existsSync(join(dataDir, 'daemon.json')), false);
}

test('stdio: with no daemon and --no-start, corral mcp exits 5 naming how to start one', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-mcp-')));
  try {
    const { file, args } = corralCommand(false);
    const run = spawnSync(file, [...args, 'mcp', '--no-start'], {
      cwd: REPO_ROOT,
      env: cleanEnv({ CORRAL_DATA_DIR: join(base, 'data') }),
      input: '',
      encoding: 'utf8',
    });
    assert.equal(run.status, 5, run.stderr);
    assert.match(run.stderr, /corral serve/);
    assert.equal(run.stdout, '', 'stdout carries only MCP messages');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('stdio: with no daemon, corral mcp starts one in the background that outlives the MCP client and its sessions', async () => {
  const { base, dataDir, root } = freshDataDir('corral-mcp-');
  let daemonPid: number | null = null;
  try {
    const c = await connectStdio(cleanEnv({ CORRAL_DATA_DIR: dataDir }), ['--root', root]);
    let sessionId: string;
    try {
      const info = JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { pid: number };
      daemonPid = info.pid;
      const created = await callOk<{ session: { id: string; cwd: string } }>(c, 'create_session', { command: ['sleep', '60'], kind: 'pipe' });
      sessionId = created.session.id;
      assert.equal(created.session.cwd, root);
    } finally {
      await c.close();
    }
    // A new MCP client finds the same daemon (no second start) and the session is still running.
    const again = await connectStdio(cleanEnv({ CORRAL_DATA_DIR: dataDir }), ['--root', root]);
    try {
      const listed = await callOk<{ sessions: { id: string; state: string }[] }>(again, 'list_sessions', { live: true });
      assert.deepEqual(listed.sessions.map((s) => s.id), [sessionId]);
      assert.equal(JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')).pid, daemonPid);
    } finally {
      await again.close();
    }
  } finally {
    if (daemonPid !== null) await stopStartedDaemon(daemonPid, dataDir);
    rmSync(base, { recursive: true, force: true });
  }
});

test('stdio: two MCP clients starting at once on one data dir end up on one daemon', async () => {
  const { base, dataDir, root } = freshDataDir('corral-mcp-race-');
  let daemonPid: number | null = null;
  const clients: Client[] = [];
  try {
    // Both find no daemon and start one; the data dir lets only one run, and the other client uses it.
    const started = await Promise.allSettled([0, 1].map(() => connectStdio(cleanEnv({ CORRAL_DATA_DIR: dataDir }), ['--root', root])));
    for (const result of started) if (result.status === 'fulfilled') clients.push(result.value);
    daemonPid = (JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { pid: number }).pid;
    assert.deepEqual(started.map((r) => r.status), ['fulfilled', 'fulfilled'], JSON.stringify(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))));
    const [first, second] = clients as [Client, Client];
    const created = await callOk<{ session: { id: string } }>(first, 'create_session', { command: ['sleep', '60'], kind: 'pipe' });
    const listed = await callOk<{ sessions: { id: string }[] }>(second, 'list_sessions', { live: true });
    assert.deepEqual(listed.sessions.map((s) => s.id), [created.session.id], 'both clients talk to the same daemon');
  } finally {
    for (const c of clients) await c.close();
    if (daemonPid !== null) await stopStartedDaemon(daemonPid, dataDir);
    rmSync(base, { recursive: true, force: true });
  }
});

interface AgentTurn {
  state: string;
  reply: string | null;
  replySource: string | null;
  timedOut: boolean;
  hint?: string;
}

test('stdio: prompt_agent drives the real claude CLI (fake API) to a reply, stops at a permission question and answer lets the tool run', async () => {
  const c = need(client, 'client');
  const d = need(daemon, 'daemon');
  const fake = await startFakeAnthropic();
  const cwd = join(d.root, 'mcp-agent');
  mkdirSync(cwd, { recursive: true });
  const slow = { timeout: AGENT_REQUEST_TIMEOUT_MS };
  const agentCall = async <T>(name: string, args: Record<string, unknown>): Promise<T> => {
    const result = (await c.callTool({ name, arguments: args }, undefined, slow)) as Awaited<ReturnType<typeof call>>;
    assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}`);
    return result.structuredContent as T;
  };
  let id: string | undefined;
  try {
    const created = await callOk<{ session: { id: string; env?: unknown } }>(c, 'create_session', {
      profile: 'claude',
      command: [CLAUDE, '--permission-mode', 'manual'],
      cwd,
      env: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0', LANG: 'C.UTF-8' },
      agent: { authToken: API_KEY, isolatedHome: true, preAnswer: true },
    });
    id = created.session.id;
    const ready = await agentCall<{ matched: boolean; session: { state: string } }>('wait_for', { sessionId: id, states: ['ready'], timeoutMs: AGENT_WAIT_MS });
    assert.equal(ready.matched, true, `session is ${ready.session.state}`);

    const noDialog = errorText(await call(c, 'answer', { sessionId: id, choice: 1 }));
    assert.match(noDialog, /shows no dialog to answer.*read_screen/);

    const turn = await agentCall<AgentTurn>('prompt_agent', { sessionId: id, text: 'over mcp', timeoutMs: AGENT_WAIT_MS });
    assert.deepEqual([turn.state, turn.reply, turn.timedOut], ['idle', 'echo: over mcp', false]);

    const asked = await agentCall<AgentTurn>('prompt_agent', { sessionId: id, text: 'bash: touch made-over-mcp.txt && echo touched', timeoutMs: AGENT_WAIT_MS });
    assert.equal(asked.state, 'waiting_input');
    assert.match(asked.hint ?? '', /answer \{sessionId:/);
    assert.equal(existsSync(join(cwd, 'made-over-mcp.txt')), false, 'nothing ran before the answer');
    const answered = await agentCall<{ dialog: string; choice: string }>('answer', { sessionId: id, choice: 'Yes' });
    assert.deepEqual([answered.dialog, answered.choice], ['permission', 'Yes']);
    const idle = await agentCall<{ matched: boolean }>('wait_for', { sessionId: id, states: ['idle'], timeoutMs: AGENT_WAIT_MS });
    assert.equal(idle.matched, true);
    assert.equal(existsSync(join(cwd, 'made-over-mcp.txt')), true, 'the tool ran after the answer');
    assert.ok(!d.stderr().includes(API_KEY), 'the token is in no log line');
  } finally {
    if (id !== undefined) await callOk(c, 'terminate_session', { sessionId: id, force: true });
    await fake.close();
  }
});
