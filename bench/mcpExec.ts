// Benchmark: execute_command("echo hi") round trip over MCP stdio and Streamable HTTP, against REST POST /exec
// and running the command directly with child_process, in the same run. Also a trivial call (list_sessions).
// Also exec_command in a shell session (exact boundaries from shell integration) against REST POST /sessions/{id}/commands.
// Run: node --import tsx bench/mcpExec.ts [iterations]. Goal (issue 6): MCP p50 <= 15 ms.

import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { corralCommand, REPO_ROOT, startDaemon } from '../test/helpers/daemonHarness.js';

/** Enough samples for a stable p99 on a 2-core machine in well under a minute per series. */
const ITERATIONS = Number(process.argv[2] ?? 200);
/** First calls pay for JIT, connection set-up and lazy imports; they are not what a session's steady state costs. */
const WARMUP = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(name: string, run: () => Promise<void>): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  console.log(`${name.padEnd(44)} p50 ${percentile(samples, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(samples, 99).toFixed(2).padStart(7)} ms   (n=${ITERATIONS})`);
}

function direct(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', 'echo hi'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', () => resolve());
  });
}

async function expectHi(client: Client): Promise<void> {
  const result = await client.callTool({ name: 'execute_command', arguments: { command: 'echo hi' } });
  const out = result.structuredContent as { stdout?: string } | undefined;
  if (out?.stdout !== 'hi\n') throw new Error(`unexpected result ${JSON.stringify(result)}`);
}

const daemon = await startDaemon();
try {
  const http = new Client({ name: 'bench', version: '1' });
  await http.connect(
    new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${daemon.token}` } } }),
  );
  const { file, args } = corralCommand(false);
  const stdio = new Client({ name: 'bench', version: '1' });
  await stdio.connect(
    new StdioClientTransport({
      command: file,
      args: [...args, 'mcp'],
      cwd: REPO_ROOT,
      env: { ...(process.env as Record<string, string>), CORRAL_URL: daemon.url, CORRAL_TOKEN: daemon.token },
    }),
  );
  try {
    console.log(`cpus: ${(await import('node:os')).cpus().length}, node ${process.version}`);
    await measure('direct child_process sh -c "echo hi"', direct);
    await measure('REST POST /api/v1/exec', async () => {
      const r = await daemon.request<{ stdout: string }>('POST', '/api/v1/exec', { command: 'echo hi' });
      if (r.body.stdout !== 'hi\n') throw new Error('bad exec');
    });
    await measure('MCP HTTP  execute_command("echo hi")', () => expectHi(http));
    await measure('MCP stdio execute_command("echo hi")', () => expectHi(stdio));
    const shell = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', { profile: 'shell', command: ['/bin/bash', '-i'] });
    const shellId = shell.body.id;
    await daemon.request('POST', `/api/v1/sessions/${shellId}/wait`, { states: ['ready', 'idle'], timeoutMs: 30_000 });
    await measure('REST POST /sessions/{id}/commands "echo hi"', async () => {
      const r = await daemon.request<{ output: string }>('POST', `/api/v1/sessions/${shellId}/commands`, { command: 'echo hi' });
      if (r.body.output !== 'hi\n') throw new Error(`bad shell exec ${JSON.stringify(r.body)}`);
    });
    const shellHi = async (client: Client): Promise<void> => {
      const result = await client.callTool({ name: 'exec_command', arguments: { sessionId: shellId, command: 'echo hi' } });
      const out = result.structuredContent as { output?: string } | undefined;
      if (out?.output !== 'hi\n') throw new Error(`unexpected result ${JSON.stringify(result)}`);
    };
    await measure('MCP HTTP  exec_command("echo hi") in a shell', () => shellHi(http));
    await measure('MCP stdio exec_command("echo hi") in a shell', () => shellHi(stdio));
    await daemon.request('DELETE', `/api/v1/sessions/${shellId}`);
    await measure('MCP HTTP  list_sessions {limit:1}', async () => void (await http.callTool({ name: 'list_sessions', arguments: { limit: 1 } })));
    await measure('MCP stdio list_sessions {limit:1}', async () => void (await stdio.callTool({ name: 'list_sessions', arguments: { limit: 1 } })));
  } finally {
    await http.close();
    await stdio.close();
  }
} finally {
  await daemon.stop();
  daemon.cleanup();
}
