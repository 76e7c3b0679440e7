// The MCP tool behaviours every transport must show, written once against the SDK Client and run by
// mcpHttp.test.ts (Streamable HTTP at /mcp) and mcpStdio.test.ts (corral mcp over stdio).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { DaemonHandle } from './daemonHarness.js';
import { fixture } from './fixtures.js';

export const TOOL_NAMES = [
  'execute_command',
  'manage_process',
  'create_session',
  'send_input',
  'exec_command',
  'prompt_agent',
  'answer',
  'read_output',
  'read_screen',
  'wait_for',
  'list_sessions',
  'terminate_session',
];
/** Reads of a background command before giving up (the command itself takes 2 s; each try waits 100 ms). */
const MAX_READ_TRIES = 200;

export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The structured result of a call that must have succeeded. */
export async function callOk<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(client, name, args);
  assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}`);
  assert.ok(result.structuredContent !== undefined, `${name} returned no structuredContent`);
  return result.structuredContent as T;
}

export function errorText(result: CallToolResult): string {
  assert.equal(result.isError, true, `expected an error result, got ${JSON.stringify(result)}`);
  const first = result.content[0];
  assert.ok(first !== undefined && first.type === 'text');
  return first.text;
}

/** Alive and not a zombie (a reaped or killed process has no /proc entry, or is Z until reaped). */
export function processAlive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  let text: string;
  try {
    text = readFileSync(stat, 'utf8');
  } catch (error) {
    // ENOENT/ESRCH: it went away between the two calls.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

interface ExecOut {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  timedOut: boolean;
  truncated: boolean;
  running: boolean;
  sessionId: string;
  pid: number | null;
  hint?: string;
}
interface ShellOut {
  output: string;
  exitCode: number | null;
  cwd: string | null;
  timedOut: boolean;
  hint?: string;
}
interface ReadOut {
  data: string;
  offset: number;
  nextOffset: number;
  more: boolean;
  running: boolean;
  hint?: string;
}
interface SessionOut {
  id: string;
  state: string;
  pid: number | null;
  exit: { code: number | null; signal: string | null; reason: string; forced: boolean } | null;
}

export interface ScenarioContext {
  daemon: () => DaemonHandle;
  client: () => Client;
  /** A second, separate MCP client (its own connection and read cursors). */
  connect: () => Promise<Client>;
  /** Ends a client's connection abruptly, as a crashing or closing MCP client would. */
  disconnect: (client: Client) => Promise<void>;
}

export function defineToolScenarios(transport: string, ctx: ScenarioContext): void {
  test(`${transport}: tools/list names every tool with input and output schemas and honest annotations`, async () => {
    const { tools } = await ctx.client().listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...TOOL_NAMES].sort());
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.outputSchema?.type, 'object', tool.name);
      assert.ok((tool.description ?? '').length > 40, `${tool.name} has a description a model can act on`);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.equal(byName.get('terminate_session')?.annotations?.destructiveHint, true);
    assert.equal(byName.get('manage_process')?.annotations?.destructiveHint, true);
    for (const name of ['exec_command', 'prompt_agent', 'answer']) {
      assert.equal(byName.get(name)?.annotations?.readOnlyHint, false, name);
    }
    assert.deepEqual(byName.get('exec_command')?.inputSchema.required?.slice().sort(), ['command', 'sessionId']);
    assert.deepEqual(byName.get('prompt_agent')?.inputSchema.required?.slice().sort(), ['sessionId', 'text']);
    assert.deepEqual(byName.get('answer')?.inputSchema.required?.slice().sort(), ['choice', 'sessionId']);
    const createProps = byName.get('create_session')?.inputSchema.properties ?? {};
    assert.ok('template' in createProps && 'agent' in createProps, 'create_session takes a template and agent options');
    for (const name of ['read_output', 'read_screen', 'list_sessions', 'wait_for']) {
      assert.equal(byName.get(name)?.annotations?.readOnlyHint, true, name);
    }
    const exec = byName.get('execute_command');
    assert.deepEqual(exec?.inputSchema.required, ['command']);
    assert.ok(exec?.inputSchema.properties !== undefined && 'timeout' in exec.inputSchema.properties && 'shell' in exec.inputSchema.properties);
    const manage = byName.get('manage_process');
    assert.deepEqual((manage?.inputSchema.properties?.action as { enum?: string[] } | undefined)?.enum, ['list', 'read', 'kill']);
  });

  test(`${transport}: execute_command returns stdout, stderr and the exit code`, async () => {
    const ok = await callOk<ExecOut>(ctx.client(), 'execute_command', { command: 'echo hi' });
    assert.equal(ok.stdout, 'hi\n');
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.timedOut, false);
    assert.equal(ok.running, false);
    assert.equal(ok.truncated, false);
    const failing = await callOk<ExecOut>(ctx.client(), 'execute_command', {
      command: 'echo out; echo err >&2; exit 3',
      shell: 'bash',
      cwd: ctx.daemon().root,
    });
    assert.deepEqual([failing.stdout, failing.stderr, failing.exitCode], ['out\n', 'err\n', 3]);
    const big = await callOk<ExecOut>(ctx.client(), 'execute_command', { command: 'head -c 5000 /dev/zero | tr "\\0" x', maxOutputBytes: 1000 });
    assert.equal(big.truncated, true);
    assert.equal(big.stdout.length, 1000);
    assert.match(big.hint ?? '', /read_output/);
  });

  test(`${transport}: a command past its timeout keeps running and manage_process reads it to the end`, async () => {
    const started = await callOk<ExecOut>(ctx.client(), 'execute_command', { command: 'echo start; sleep 2; echo done', timeout: 200 });
    assert.equal(started.timedOut, true);
    assert.equal(started.running, true);
    assert.equal(started.stdout, 'start\n');
    assert.ok(started.pid !== null);
    assert.match(started.hint ?? '', new RegExp(`pid ${started.pid}`));
    const listed = await callOk<{ processes: { pid: number; running: boolean }[] }>(ctx.client(), 'manage_process', { action: 'list' });
    assert.ok(listed.processes.some((p) => p.pid === started.pid && p.running));
    let seen = '';
    for (let i = 0; i < MAX_READ_TRIES && !seen.includes('done'); i++) {
      const read = await callOk<{ output: ReadOut }>(ctx.client(), 'manage_process', { action: 'read', pid: started.pid });
      seen += read.output.data;
      if (!seen.includes('done')) await sleep(100);
    }
    // Each read continued where the last stopped: "start" (already returned by execute_command) is not repeated.
    assert.equal(seen, 'done\n');
    // A second reader with its own cursor still sees everything: reads never consume.
    const other = await ctx.connect();
    try {
      const again = await callOk<{ output: ReadOut }>(other, 'manage_process', { action: 'read', pid: started.pid });
      assert.equal(again.output.data, 'start\ndone\n');
    } finally {
      await other.close();
    }
  });

  test(`${transport}: manage_process kill ends the whole tree, a setsid grandchild included`, async () => {
    const script = fixture('setsid-grandchild.sh');
    const started = await callOk<ExecOut>(ctx.client(), 'execute_command', { command: `sh ${script}`, timeout: 500 });
    assert.equal(started.running, true);
    const grandchild = Number(started.stdout.trim());
    assert.ok(Number.isInteger(grandchild) && grandchild > 0, `fixture printed its grandchild's pid: ${started.stdout}`);
    assert.equal(processAlive(grandchild), true);
    const killed = await callOk<{ process: { running: boolean; state: string } }>(ctx.client(), 'manage_process', { action: 'kill', pid: started.pid });
    assert.equal(killed.process.state, 'terminated');
    assert.equal(processAlive(grandchild), false);
  });

  test(`${transport}: session tools create, type, wait, read output and screen, list and terminate`, async () => {
    const client = ctx.client();
    const created = await callOk<{ session: SessionOut }>(client, 'create_session', { command: ['sh'], name: 'mcp-shell', cols: 80, rows: 24 });
    const id = created.session.id;
    try {
      await callOk(client, 'send_input', { sessionId: id, text: 'echo mcp-$((40+2))', keys: ['Enter'] });
      // Not anchored at the line start: typed before sh printed its first prompt, the terminal echoes the line at
      // once and sh's "$ " then precedes the result on its line. Only the command's output says "mcp-42".
      const waited = await callOk<{ matched: boolean; outcome: string }>(client, 'wait_for', { sessionId: id, pattern: 'mcp-42$', since: 0, timeoutMs: 15_000 });
      assert.deepEqual([waited.matched, waited.outcome], [true, 'pattern']);
      const read = await callOk<ReadOut>(client, 'read_output', { sessionId: id, since: 0 });
      assert.match(read.data, /mcp-42$/m);
      const small = await callOk<ReadOut>(client, 'read_output', { sessionId: id, since: 0, maxBytes: 4 });
      assert.equal(small.nextOffset, 4);
      assert.equal(small.more, true);
      assert.match(small.hint ?? '', /from offset 4/);
      const next = await callOk<ReadOut>(client, 'read_output', { sessionId: id, maxBytes: 4 });
      assert.equal(next.offset, 4, 'without since, a read continues where this connection stopped');
      const screen = await callOk<{ lines: string[]; cols: number }>(client, 'read_screen', { sessionId: id });
      assert.equal(screen.cols, 80);
      // sh's prompt is "# " for root and "$ " for anyone else; it precedes the result when the line was typed first.
      assert.ok(screen.lines.some((line) => /(^|[$#] )mcp-42/.test(line)), JSON.stringify(screen.lines.filter((line) => line.trim() !== '')));
      const listed = await callOk<{ sessions: SessionOut[] }>(client, 'list_sessions', { live: true });
      assert.ok(listed.sessions.some((s) => s.id === id));
      const pipe = await callOk<{ session: SessionOut }>(client, 'create_session', { command: ['cat'], kind: 'pipe' });
      await callOk(client, 'send_input', { sessionId: pipe.session.id, text: 'through cat\n', eof: true });
      const exited = await callOk<{ matched: boolean; session: SessionOut }>(client, 'wait_for', { sessionId: pipe.session.id, exit: true, timeoutMs: 15_000 });
      assert.equal(exited.session.exit?.code, 0);
      const stdout = await callOk<ReadOut>(client, 'read_output', { sessionId: pipe.session.id, stream: 'stdout', since: 0 });
      assert.equal(stdout.data, 'through cat\n');
    } finally {
      const ended = await callOk<{ session: SessionOut }>(client, 'terminate_session', { sessionId: id });
      assert.equal(ended.session.state, 'terminated');
      assert.ok(ended.session.exit !== null);
    }
  });

  test(`${transport}: exec_command runs in a shell session from a template with exact output, exit code and cwd; a busy session says what to do`, async () => {
    const client = ctx.client();
    const daemon = ctx.daemon();
    const templateName = `mcp-shell-${transport}`;
    const stored = await daemon.request('POST', '/api/v1/templates', {
      name: templateName,
      profile: 'shell',
      command: ['/bin/bash', '-i'],
      env: { MCP_GREETING: 'from-template' },
    });
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    const created = await callOk<{ session: SessionOut & { cwd: string } }>(client, 'create_session', { template: templateName, cwd: daemon.root });
    const id = created.session.id;
    try {
      const first = await callOk<ShellOut>(client, 'exec_command', { sessionId: id, command: 'echo "$MCP_GREETING"; mkdir -p sub && cd sub' });
      assert.deepEqual([first.output, first.exitCode, first.timedOut], ['from-template\n', 0, false]);
      assert.equal(first.cwd, join(created.session.cwd, 'sub'), 'the cwd after the command');
      const failing = await callOk<ShellOut>(client, 'exec_command', { sessionId: id, command: 'cat <<EOF\nline one\nline two\nEOF\n(exit 7)' });
      assert.deepEqual([failing.output, failing.exitCode], ['line one\nline two\n', 7]);
      const slow = await callOk<ShellOut>(client, 'exec_command', { sessionId: id, command: 'echo started; sleep 30', timeoutMs: 300 });
      assert.deepEqual([slow.output, slow.exitCode, slow.timedOut], ['started\n', null, true]);
      assert.match(slow.hint ?? '', /wait_for .*"idle"/);
      const busy = errorText(await call(client, 'exec_command', { sessionId: id, command: 'echo no' }));
      assert.match(busy, /SESSION_BUSY/);
      assert.match(busy, /wait_for \{sessionId:"[^"]+", states:\["idle"\]\}/);
      assert.match(busy, /keys:\["C-c"\]/);
      assert.doesNotMatch(busy, /POST \//, 'the hint names tools, not REST routes');
      await callOk(client, 'send_input', { sessionId: id, keys: ['C-c'] });
      const idle = await callOk<{ matched: boolean }>(client, 'wait_for', { sessionId: id, states: ['idle'], timeoutMs: 15_000 });
      assert.equal(idle.matched, true);
      const next = await callOk<ShellOut>(client, 'exec_command', { sessionId: id, command: 'pwd' });
      assert.deepEqual([next.output, next.exitCode], [`${join(created.session.cwd, 'sub')}\n`, 0]);
      const notShell = await callOk<{ session: SessionOut }>(client, 'create_session', { command: ['sleep', '60'], kind: 'pipe' });
      try {
        assert.match(errorText(await call(client, 'exec_command', { sessionId: notShell.session.id, command: 'ls' })), /SHELL_INTEGRATION_UNAVAILABLE/);
      } finally {
        await callOk(client, 'terminate_session', { sessionId: notShell.session.id, force: true });
      }
      assert.match(errorText(await call(client, 'create_session', { template: 'no-such-template' })), /No template "no-such-template"/);
    } finally {
      await callOk(client, 'terminate_session', { sessionId: id, force: true });
      await daemon.request('DELETE', `/api/v1/templates/${templateName}`);
    }
  });

  test(`${transport}: invalid arguments come back as isError results`, async () => {
    const client = ctx.client();
    assert.match(errorText(await call(client, 'execute_command', { command: 5 })), /command/);
    assert.match(errorText(await call(client, 'manage_process', { action: 'explode' })), /action/);
    assert.match(errorText(await call(client, 'manage_process', { action: 'read' })), /pid/);
    assert.match(errorText(await call(client, 'wait_for', { sessionId: 's_x', timeoutMs: 10 })), /states, pattern or exit/);
    assert.match(errorText(await call(client, 'send_input', { sessionId: 's_x' })), /text, keys or eof/);
    assert.match(errorText(await call(client, 'create_session', { command: ['definitely-not-a-program-xyz'] })), /COMMAND_NOT_FOUND/);
    // The connection is still fine afterwards.
    assert.equal((await callOk<ExecOut>(client, 'execute_command', { command: 'echo still' })).stdout, 'still\n');
  });

  test(`${transport}: every tool parameter has a description, and no tool takes parameters it does not list`, async () => {
    const { tools } = await ctx.client().listTools();
    const undescribed: string[] = [];
    for (const tool of tools) {
      assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name} accepts unlisted parameters`);
      for (const [name, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        const description = (schema as { description?: unknown }).description;
        if (typeof description !== 'string' || description.trim().length < 8) undescribed.push(`${tool.name}.${name}`);
      }
    }
    assert.deepEqual(undescribed, []);
  });

  test(`${transport}: unknown arguments are refused with an isError result naming them, and nothing runs`, async () => {
    const client = ctx.client();
    const before = await callOk<{ sessions: SessionOut[] }>(client, 'list_sessions', { limit: 200 });
    assert.match(errorText(await call(client, 'create_session', { command: ['sleep', '60'], bogus: 1 })), /bogus/);
    assert.match(errorText(await call(client, 'execute_command', { command: 'echo leaked', env: { A: '1' } })), /"env"|env/);
    assert.match(errorText(await call(client, 'list_sessions', { live: true, sessionId: 's_x' })), /sessionId/);
    const after = await callOk<{ sessions: SessionOut[] }>(client, 'list_sessions', { limit: 200 });
    assert.deepEqual(after.sessions.map((s) => s.id), before.sessions.map((s) => s.id), 'a refused call started something');
  });

  test(`${transport}: unknown ids are isError results that name what exists`, async () => {
    const client = ctx.client();
    const live = await callOk<{ session: SessionOut }>(client, 'create_session', { command: ['sleep', '60'], kind: 'pipe' });
    try {
      for (const tool of ['read_output', 'read_screen', 'terminate_session']) {
        const text = errorText(await call(client, tool, { sessionId: 's_doesNotExist' }));
        assert.match(text, /No session "s_doesNotExist"/, tool);
        assert.match(text, new RegExp(`Live sessions: .*${live.session.id}`), tool);
      }
      const text = errorText(await call(client, 'manage_process', { action: 'kill', pid: 999_999_999 }));
      assert.match(text, /No Corral process has pid 999999999/);
      assert.match(text, new RegExp(`pid ${live.session.pid}`));
    } finally {
      await callOk(client, 'terminate_session', { sessionId: live.session.id, force: true });
    }
  });

  test(`${transport}: a client that disconnects mid-call leaves the daemon and its session running`, async () => {
    const daemon = ctx.daemon();
    const created = await callOk<{ session: SessionOut }>(ctx.client(), 'create_session', { command: ['sleep', '60'], kind: 'pipe' });
    const id = created.session.id;
    try {
      const leaving = await ctx.connect();
      const pending = call(leaving, 'wait_for', { sessionId: id, exit: true, timeoutMs: 60_000 }).then(
        () => 'answered',
        () => 'rejected',
      );
      // Let the call reach the daemon before going away.
      await sleep(300);
      await ctx.disconnect(leaving);
      assert.equal(await pending, 'rejected');
      const info = await daemon.request<{ state: string }>('GET', `/api/v1/sessions/${id}`);
      assert.equal(info.status, 200);
      assert.notEqual(info.body.state, 'terminated');
      // The remaining client still works.
      assert.equal((await callOk<ExecOut>(ctx.client(), 'execute_command', { command: 'echo alive' })).stdout, 'alive\n');
    } finally {
      await callOk(ctx.client(), 'terminate_session', { sessionId: id, force: true });
    }
  });
}
