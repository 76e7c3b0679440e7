// The real Claude Code CLI (node_modules/.bin/claude) in its default sandbox under a real daemon with the durable
// holder backend, against the fake Anthropic API on the host's 127.0.0.1 (network "full" shares it): it reaches
// ready, answers a prompt with its hooks still reaching Corral from inside the sandbox, runs a Bash tool that cannot
// read the daemon's token but can write its cwd, and calls Corral with its scoped token.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startDaemon } from '../helpers/daemonHarness.js';
import { startFakeAnthropic } from '../helpers/fakeAnthropic.js';
import type { SessionInfo, StateEvent } from '../../src/protocol/sessionTypes.js';

const CLAUDE = process.env.CLAUDE_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'claude');
/** Startup to the input box takes about a second idle; a loaded 2-core machine needs far more. */
const START_MS = 60_000;
const TURN_MS = 90_000;
const API_KEY = 'sk-ant-corral-test-0123456789abcdefghijkl';

test('claude in its default sandbox under a holder: ready, a prompt answered through hooks, a tool confined to its cwd, its scoped token works', async () => {
  const fake = await startFakeAnthropic();
  const daemon = await startDaemon();
  try {
    const cwd = join(daemon.root, 'project');
    mkdirSync(cwd);
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', {
      profile: 'claude',
      // Bash is allowed by rule, so tool turns run without a permission dialog (the sandbox is what confines them).
      command: [CLAUDE, '--permission-mode', 'manual', '--allowedTools', 'Bash'],
      cwd,
      taskId: 'task-claude',
      env: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0', LANG: 'C.UTF-8' },
      // Bash permission dialogs are answered by Corral (opt-in), so each tool turn runs to its end.
      agent: { authToken: API_KEY, isolatedHome: true, preAnswer: true, autoAnswer: ['tool:Bash'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    assert.equal(created.body.sandbox?.mode, 'bwrap', 'agent profiles are sandboxed by default');
    assert.equal(created.body.scopedToken, true);
    const ready = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${id}/wait`, { states: ['ready', 'idle'], timeoutMs: START_MS });
    assert.equal(ready.body.matched, true, `never ready: ${ready.body.session.state} (${ready.body.session.stateReason})`);

    const prompt = async (text: string): Promise<{ state: string; reply: string | null }> => {
      const reply = await daemon.request<{ state: string; reply: string | null }>('POST', `/api/v1/sessions/${id}/prompt`, { text, timeoutMs: TURN_MS });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return reply.body;
    };
    const hello = await prompt('hello from the sandbox');
    assert.equal(hello.state, 'idle');
    assert.equal(hello.reply, 'echo: hello from the sandbox');
    const events = await daemon.request<{ events: StateEvent[] }>('GET', `/api/v1/sessions/${id}/events`);
    assert.ok(events.body.events.some((event) => event.source === 'hook'), 'no state came from a hook: hooks did not reach Corral from the sandbox');

    // A Bash tool turn (allowed by rule, so no dialog): the command writes what it saw into the cwd.
    const runTool = async (command: string): Promise<void> => {
      const turn = await prompt(`bash: ${command}`);
      assert.equal(turn.state, 'idle', JSON.stringify(turn));
    };
    const written = async (name: string): Promise<string> => {
      const path = join(cwd, name);
      for (let i = 0; i < 100 && !existsSync(path); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      if (!existsSync(path)) {
        const screen = await daemon.request<{ lines: string[] }>('GET', `/api/v1/sessions/${id}/screen`);
        assert.fail(`the tool wrote no ${name}:\n${screen.body.lines.join('\n')}`);
      }
      return readFileSync(path, 'utf8');
    };
    await runTool(`cat ${daemon.dataDir}/token > token-read.txt 2>&1`);
    const tokenRead = await written('token-read.txt');
    assert.match(tokenRead, /No such file or directory/);
    assert.ok(!tokenRead.includes(daemon.token), 'the tool read the daemon token');

    const other = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', { taskId: 'task-other', kind: 'pipe', command: ['/bin/sleep', '1000'] });
    await runTool(`curl -s -o /dev/null -w "%{http_code}" -H "authorization: Bearer $CORRAL_TOKEN" "$CORRAL_URL/api/v1/sessions/$CORRAL_SESSION_ID" > own.txt`);
    await runTool(`curl -s -o /dev/null -w "%{http_code}" -H "authorization: Bearer $CORRAL_TOKEN" "$CORRAL_URL/api/v1/sessions/${other.body.id}" > other.txt`);
    assert.equal(await written('own.txt'), '200', 'the scoped token did not reach its own session');
    assert.equal(await written('other.txt'), '403', 'the scoped token reached another task');
    assert.equal((await daemon.request('DELETE', `/api/v1/sessions/${id}`)).status, 200);
  } finally {
    await daemon.stop();
    daemon.cleanup();
    await fake.close();
  }
});
