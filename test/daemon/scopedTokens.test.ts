// Proves the scoped tokens of PRODUCT §1.9 through a real daemon: a sandboxed session with `scopedToken` gets
// CORRAL_URL and a CORRAL_TOKEN that reaches its own session and task on every face (REST, WebSocket, SSE, MCP over
// HTTP) and answers 403 TOKEN_SCOPE elsewhere, each refusal a `security.refused` event; the token is not the daemon's,
// works from inside the sandbox, survives a daemon restart with its durable session, and ends with its session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { createSession, waitForText } from '../helpers/coreSupport.js';
import { upgradeStatus } from '../helpers/wsTestClient.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import type { HubEvent } from '../../src/protocol/events.js';

/** Events a test waits for arrive within this on a loaded machine. */
const EVENT_WAIT_MS = 30_000;

async function as<T>(daemon: DaemonHandle, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(daemon.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** Reads an SSE stream into `events` until aborted. */
function collectEvents(daemon: DaemonHandle, token: string, signal: AbortSignal, events: HubEvent[], query = ''): Promise<number> {
  return fetch(`${daemon.url}/api/v1/events${query}`, { headers: { authorization: `Bearer ${token}` }, signal }).then(async (response) => {
    if (response.status !== 200 || response.body === null) return response.status;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data !== undefined && /^event: /m.test(frame)) events.push(JSON.parse(data) as HubEvent);
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
    return response.status;
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = performance.now() + EVENT_WAIT_MS;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a scoped token reaches its own session and task on REST, WebSocket, SSE and MCP, and nothing else (403 TOKEN_SCOPE, each an event)', async () => {
  const daemon = await startDaemon();
  const owner: HubEvent[] = [];
  const ownerStream = new AbortController();
  const ownerDone = collectEvents(daemon, daemon.token, ownerStream.signal, owner);
  try {
    const other = await createSession(daemon, { taskId: 'task-b', kind: 'pipe', command: ['/bin/sleep', '1000'] });
    // The session calls Corral itself, from inside its sandbox, with what its environment holds.
    const script = [
      'echo "url=$CORRAL_URL"',
      'echo "token=$CORRAL_TOKEN"',
      `curl -s -o /dev/null -w 'own:%{http_code}\\n' -H "authorization: Bearer $CORRAL_TOKEN" "$CORRAL_URL/api/v1/sessions/$CORRAL_SESSION_ID"`,
      `curl -s -w '\\nother:%{http_code}\\n' -H "authorization: Bearer $CORRAL_TOKEN" "$CORRAL_URL/api/v1/sessions/${other.id}"`,
      'echo checked',
      'exec sleep 1000',
    ].join('\n');
    const agent = await createSession(daemon, { taskId: 'task-a', kind: 'pipe', command: ['/bin/sh', '-c', script], sandbox: {}, scopedToken: true });
    assert.equal(agent.scopedToken, true);
    const text = await waitForText(daemon, agent.id, 'checked');
    const token = /^token=(\S+)$/m.exec(text)?.[1] ?? '';
    assert.match(token, /^cst_/, text);
    assert.notEqual(token, daemon.token);
    assert.equal(/^url=(\S+)$/m.exec(text)?.[1], daemon.url);
    assert.match(text, /^own:200$/m, text);
    assert.match(text, /^other:403$/m, text);
    assert.match(text, /"code":"TOKEN_SCOPE"/);

    // REST: its own session and task yes, another session, another task and owner-only routes no.
    assert.equal((await as(daemon, token, 'GET', `/api/v1/sessions/${agent.id}/output?since=0`)).status, 200);
    for (const [method, path] of [
      ['GET', `/api/v1/sessions/${other.id}`],
      ['GET', `/api/v1/sessions/${other.id}/output?since=0`],
      ['DELETE', `/api/v1/sessions/${other.id}`],
      ['GET', '/api/v1/tasks/task-b'],
      ['GET', '/api/v1/templates'],
      ['GET', '/api/v1/stats'],
      ['GET', '/metrics'],
    ] as const) {
      const reply = await as<{ error: { code: string } }>(daemon, token, method, path);
      assert.equal(reply.status, 403, `${method} ${path}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.code, 'TOKEN_SCOPE');
    }
    const listed = await as<{ sessions: SessionInfo[] }>(daemon, token, 'GET', '/api/v1/sessions');
    assert.deepEqual(listed.body.sessions.map((s) => s.id), [agent.id], 'the list showed sessions of another task');
    const otherTask = await as<{ error: { code: string } }>(daemon, token, 'POST', '/api/v1/sessions', { taskId: 'task-b', command: ['/bin/true'], forceNew: true });
    assert.equal(otherTask.body.error.code, 'TOKEN_SCOPE');
    const unboxed = await as<{ error: { code: string } }>(daemon, token, 'POST', '/api/v1/sessions', { command: ['/bin/true'], sandbox: 'none', forceNew: true });
    assert.equal(unboxed.body.error.code, 'TOKEN_SCOPE', 'a sandboxed session started one without a sandbox');

    // SSE with the scoped token: its task's events only; asking for another session's is refused.
    const scoped: HubEvent[] = [];
    const scopedStream = new AbortController();
    const scopedDone = collectEvents(daemon, token, scopedStream.signal, scoped);
    assert.equal(await collectEvents(daemon, token, new AbortController().signal, [], `?sessionId=${other.id}`), 403);
    // A child in its own task: created with the task forced and the parent's sandbox.
    const child = await as<SessionInfo>(daemon, token, 'POST', '/api/v1/sessions', { kind: 'pipe', command: ['/bin/sh', '-c', 'echo child'], forceNew: true });
    assert.equal(child.status, 201, JSON.stringify(child.body));
    assert.equal(child.body.taskId, 'task-a');
    assert.equal(child.body.sandbox?.mode, 'bwrap');
    const noise = await createSession(daemon, { taskId: 'task-b', forceNew: true, kind: 'pipe', command: ['/bin/true'] });
    await until('the child and the noise to exit (owner stream)', () =>
      [child.body.id, noise.id].every((id) => owner.some((e) => e.type === 'session.exited' && e.sessionId === id)),
    );
    await until('the child to exit (scoped stream)', () => scoped.some((e) => e.type === 'session.exited' && e.sessionId === child.body.id));
    scopedStream.abort();
    assert.equal(await scopedDone, 200);
    assert.ok(!scoped.some((e) => e.sessionId === noise.id || e.sessionId === other.id), 'the scoped stream carried another task\'s events');

    // WebSocket: attach to its own session, not to another.
    const wsBase = daemon.url.replace('http', 'ws');
    assert.equal((await upgradeStatus(`${wsBase}/ws/sessions/${agent.id}`, { authorization: `Bearer ${token}` })).status, 101);
    const refusedWs = await upgradeStatus(`${wsBase}/ws/sessions/${other.id}`, { authorization: `Bearer ${token}` });
    assert.equal(refusedWs.status, 403);
    assert.match(refusedWs.body, /TOKEN_SCOPE/);

    // MCP over HTTP: the tools reach its own session only.
    const transport = new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    const mcp = new Client({ name: 'scoped-test', version: '1.0.0' });
    await mcp.connect(transport);
    try {
      const own = await mcp.callTool({ name: 'read_output', arguments: { sessionId: agent.id, since: 0 } });
      assert.notEqual(own.isError, true, JSON.stringify(own.content));
      const theirs = await mcp.callTool({ name: 'read_output', arguments: { sessionId: other.id, since: 0 } });
      assert.equal(theirs.isError, true);
      assert.match(JSON.stringify(theirs.content), /TOKEN_SCOPE/);
      const list = await mcp.callTool({ name: 'list_sessions', arguments: {} });
      // (The session's own command line names the other session, so ids are compared, not text.)
      const listedIds = ((list.structuredContent as { sessions?: { id: string }[] } | undefined)?.sessions ?? []).map((s) => s.id);
      assert.ok(listedIds.includes(agent.id), JSON.stringify(list.structuredContent));
      assert.ok(!listedIds.includes(other.id) && !listedIds.includes(noise.id), 'list_sessions showed another task');
      // An agent session in a worktree names its own repo, home and task: closed to a session's token (as REST's
      // POST /sessions/agent is), so it cannot start an unconfined agent anywhere.
      const worktree = await mcp.callTool({
        name: 'create_session',
        arguments: { profile: 'claude', taskId: 'escape', worktree: { repo: daemon.root, branch: 'escape' } },
      });
      assert.equal(worktree.isError, true, JSON.stringify(worktree.content));
      assert.match(JSON.stringify(worktree.content), /TOKEN_SCOPE/);
    } finally {
      await mcp.close();
    }

    // Every refusal is an event of the session holding the token, naming the face.
    await until('refusals from every face', () => {
      const faces = new Set<string>(owner.filter((e) => e.type === 'security.refused' && e.sessionId === agent.id).map((e) => (e.data.type === 'security.refused' ? e.data.refusal.face : '')));
      return ['rest', 'websocket', 'events', 'mcp'].every((face) => faces.has(face));
    });
    assert.match(daemon.stderr(), /scoped token refused/);

    // The token ends with its session.
    assert.equal((await daemon.request('DELETE', `/api/v1/sessions/${agent.id}`)).status, 200);
    assert.equal((await as(daemon, token, 'GET', `/api/v1/sessions/${agent.id}`)).status, 401);
  } finally {
    ownerStream.abort();
    await ownerDone;
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a durable session keeps its scoped token across a daemon restart; the store holds only its hash', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | undefined;
  try {
    const agent = await createSession(first, { taskId: 'task-r', kind: 'pipe', command: ['/bin/sh', '-c', 'echo "token=$CORRAL_TOKEN"; exec sleep 1000'], sandbox: {}, scopedToken: true });
    const token = /^token=(\S+)$/m.exec(await waitForText(first, agent.id, 'token=cst_'))?.[1] ?? '';
    assert.equal((await as(first, token, 'GET', `/api/v1/sessions/${agent.id}`)).status, 200);
    await first.stop('keep-sessions');
    const { readFileSync, readdirSync } = await import('node:fs');
    const storeFiles = readdirSync(first.dataDir).filter((name) => name.endsWith('.db') || name.endsWith('.db-wal'));
    for (const name of storeFiles) assert.ok(!readFileSync(`${first.dataDir}/${name}`).includes(token), `${name} holds the scoped token in clear`);
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const info = await as<SessionInfo>(second, token, 'GET', `/api/v1/sessions/${agent.id}`);
    assert.equal(info.status, 200, JSON.stringify(info.body));
    assert.equal(info.body.sandbox?.mode, 'bwrap');
  } finally {
    if (second !== undefined) await second.stop();
    else await first.stop();
    first.cleanup();
  }
});
