// Claude Code sessions against the real `claude` binary (pinned in node_modules) and the fake Anthropic API:
// dialogs, prompts, permissions, interrupts, API errors, resize, exit and isolation, in one in-process testbed.engine.
// Sessions run in parallel where they do not share anything.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeAnthropic } from '../../helpers/fakeAnthropic.js';
import type { CreateSessionRequest } from '../../../src/protocol/api.js';
import type { Session } from '../../../src/engine/Session.js';
import type { StateEvent } from '../../../src/protocol/sessionTypes.js';
import { REPO_ROOT } from '../../helpers/daemonHarness.js';
import { waitState as waitStateFor, assertDialogConfirmed, endAndCheckGone, enterOnWaiting, useAgentEngine, waitUntil } from '../../helpers/agentTestKit.js';

const CLAUDE = process.env.CLAUDE_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'claude');
/** Startup to the input box is 0.4–0.9 s idle; a loaded 2-core machine running other suites needs far more. */
const START_MS = 45_000;
const TURN_MS = 60_000;
const API_KEY = 'sk-ant-corral-test-0123456789abcdefghijkl';

const testbed = useAgentEngine(() => startFakeAnthropic());

function claudeRequest(name: string, agent: CreateSessionRequest['agent'], extraArgs: string[] = []): CreateSessionRequest {
  return {
    profile: 'claude',
    command: [CLAUDE, ...extraArgs],
    cwd: testbed.project(name),
    taskId: `task-${name}`,
    env: { ANTHROPIC_BASE_URL: testbed.fake.url, CLAUDE_CODE_MAX_RETRIES: '0', LANG: 'C.UTF-8' },
    agent: { authToken: API_KEY, isolatedHome: true, ...agent },
  };
}

function recordEvents(session: Session): StateEvent[] {
  const events: StateEvent[] = [];
  session.onStateChange((event) => events.push(event));
  return events;
}

function waitState(session: Session, states: Session['state'][], timeoutMs = START_MS): Promise<void> {
  return waitStateFor(session, states, timeoutMs);
}

describe('claude sessions against the real CLI', { concurrency: true }, () => {
  it('fresh HOME: trust dialog (waiting_input) → answered → API-key question (authenticating) → answered → ready', async () => {
    const { session } = await testbed.engine.manager.create(claudeRequest('fresh', {}));
    const events = recordEvents(session);
    await waitState(session, ['waiting_input']);
    assert.match(session.stateReason, /trust/);
    assert.equal(session.toInfo().stateSource, 'screen');
    const trust = await testbed.engine.manager.agents.answer(session, { choice: 'Yes, I trust this folder' });
    assert.equal(trust.dialog, 'trust');
    await waitState(session, ['authenticating']);
    assert.match(session.stateReason, /api_key/);
    const key = await testbed.engine.manager.agents.answer(session, { choice: 'Yes' });
    assert.equal(key.dialog, 'api_key');
    await waitState(session, ['ready']);
    assert.deepEqual(
      events.map((e) => e.to).filter((s) => s !== 'terminating'),
      ['waiting_input', 'authenticating', 'ready'],
    );
    const config = JSON.parse(readFileSync(join(session.spec.childEnv.HOME ?? '', '.claude.json'), 'utf8')) as { customApiKeyResponses: { approved: string[] } };
    assert.ok(config.customApiKeyResponses.approved.includes(API_KEY.slice(-20)), 'the CLI stored the approval');
    await endAndCheckGone(testbed.engine, session);
  });

  it('opted-in auto-answers get a fresh HOME to ready with no caller action; without the opt-in the dialog waits', async () => {
    const { session } = await testbed.engine.manager.create(claudeRequest('auto', { autoAnswer: ['trust', 'api_key'] }));
    const events = recordEvents(session);
    await waitState(session, ['ready']);
    assert.ok(events.some((e) => e.to === 'waiting_input'), 'the trust dialog was seen');
    const { session: manual } = await testbed.engine.manager.create(claudeRequest('noauto', {}));
    await waitState(manual, ['waiting_input']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(manual.state, 'waiting_input', 'nothing answered the dialog by default');
    await Promise.all([endAndCheckGone(testbed.engine, session), endAndCheckGone(testbed.engine, manual)]);
  });

  it('pre-answered HOME: ready with no dialog; prompt → busy → idle with the reply; API errors recorded; interrupt and resize while busy', async () => {
    const { session } = await testbed.engine.manager.create(claudeRequest('main', { preAnswer: true }));
    const events = recordEvents(session);
    await waitState(session, ['ready']);
    assert.ok(!events.some((e) => e.to === 'waiting_input' || e.to === 'authenticating'), 'no dialog showed');

    const first = await testbed.engine.manager.agents.prompt(session, { text: 'hello from the main task', timeoutMs: TURN_MS });
    assert.equal(first.state, 'idle');
    assert.equal(first.reply, 'echo: hello from the main task');
    assert.equal(first.replySource, 'hook');
    // Whichever signal came first decides; under load the spinner can beat a hook command.
    const busy = events.find((e) => e.to === 'busy');
    assert.ok(busy?.source === 'hook' || busy?.source === 'screen', `busy came from ${busy?.source}`);
    const driver = session.driver;
    assert.ok(driver.kind === 'agent', 'a claude session has an agent driver');
    assert.ok(driver.detector.insight.hooksReceived >= 2, 'UserPromptSubmit and Stop hooks reached the session');
    assert.ok(events.some((e) => e.from === 'busy' && e.to === 'idle'));

    const failed = await testbed.engine.manager.agents.prompt(session, { text: 'error 500', timeoutMs: TURN_MS });
    assert.equal(failed.state, 'error');
    assert.match(failed.error ?? '', /500/);
    const again = await testbed.engine.manager.agents.prompt(session, { text: 'after the error', timeoutMs: TURN_MS });
    assert.equal(again.state, 'idle');
    assert.equal(again.reply, 'echo: after the error');

    // Interrupt while busy: no hook reports it; the screen does.
    const slow = testbed.engine.manager.agents.prompt(session, { text: 'slow 20: to be interrupted', timeoutMs: TURN_MS });
    // Busy on screen alone can be a side request's spinner (a title after the last turn): the turn is running once
    // the API has its request.
    await waitUntil('the API has the slow turn', () => testbed.fake.requests.some((r) => r.lastUserText?.includes('slow 20') === true), TURN_MS);
    await waitState(session, ['busy'], TURN_MS);
    session.resize(100, 30);
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(session.state, 'busy', 'a resize does not end the turn');
    session.interrupt();
    const interrupted = await slow;
    assert.equal(interrupted.state, 'idle');
    const last = events.at(-1);
    assert.equal(last?.to, 'idle');
    assert.equal(last?.source, 'screen');
    const screen = await session.screenSnapshot();
    assert.equal(screen.cols, 100);
    // The idle state can land a frame before the 'Interrupted' line under load: look for a moment.
    let shown = screen.lines.some((line) => line.includes('Interrupted'));
    for (let i = 0; i < 30 && !shown; i++, await new Promise((resolve) => setTimeout(resolve, 100))) {
      shown = (await session.screenSnapshot()).lines.some((line) => line.includes('Interrupted'));
    }
    assert.ok(shown, `the screen says the turn was interrupted: ${events.map((e) => `${e.to} (${e.source}: ${e.reason})`).join(' → ')}\n${(await session.screenSnapshot()).lines.join('\n')}`);

    const history = testbed.engine.store.listCommands(session.id, { limit: 100 });
    assert.deepEqual(history.map((c) => c.kind), ['prompt', 'prompt', 'prompt', 'prompt']);
    assert.equal(history[0]?.text, 'hello from the main task');
    assert.equal(history[1]?.exitCode, 1);
    assert.ok(history.every((c) => c.endedAt !== null));
    const stats = testbed.engine.manager.agents.stats(testbed.engine.manager.liveSessions(), 'claude') as { prompts: { prompts: number } };
    assert.ok(stats.prompts.prompts >= 4);
    await endAndCheckGone(testbed.engine, session);
  });

  it('a permission prompt in manual mode → waiting_input → answered → the tool runs → idle', async () => {
    const { session } = await testbed.engine.manager.create(claudeRequest('perm', { preAnswer: true }, ['--permission-mode', 'manual']));
    await waitState(session, ['ready']);
    // The PermissionRequest hook arrives 250–500 ms before the dialog is drawn, and the dialog drops keys in its first
    // ~150 ms; waiting_input is reported only once the dialog takes keys, so a raw Enter sent 400 ms after the report
    // approves (when the hook decided, that Enter landed as the dialog appeared and was lost).
    const enter = enterOnWaiting(session, 400);
    const rawAsked = await testbed.engine.manager.agents.prompt(session, { text: 'bash: touch by-raw-key.txt && echo touched', timeoutMs: TURN_MS });
    assert.equal(rawAsked.state, 'waiting_input');
    assertDialogConfirmed(await enter.done, 'permission');
    await waitState(session, ['idle'], TURN_MS);
    assert.ok(existsSync(join(session.spec.cwd, 'by-raw-key.txt')), 'the raw Enter at the reported moment approved the tool');
    const asked = await testbed.engine.manager.agents.prompt(session, { text: 'bash: touch made-by-tool.txt && echo touched', timeoutMs: TURN_MS });
    assert.equal(asked.state, 'waiting_input');
    assert.ok(!existsSync(join(session.spec.cwd, 'made-by-tool.txt')));
    const answered = await testbed.engine.manager.agents.answer(session, { choice: 'Yes' });
    assert.equal(answered.dialog, 'permission');
    assert.equal(answered.choice, 'Yes');
    await waitState(session, ['idle'], TURN_MS);
    assert.ok(existsSync(join(session.spec.cwd, 'made-by-tool.txt')), 'the tool ran');
    await endAndCheckGone(testbed.engine, session);
  });

  it('two Claude sessions for two tasks at once stay isolated (own HOME and cwd, replies not crossed)', async () => {
    const a = (await testbed.engine.manager.create(claudeRequest('iso-a', { preAnswer: true }))).session;
    const b = (await testbed.engine.manager.create(claudeRequest('iso-b', { preAnswer: true }))).session;
    assert.notEqual(a.spec.childEnv.HOME, b.spec.childEnv.HOME);
    assert.equal((await testbed.engine.manager.create(claudeRequest('iso-a', { preAnswer: true }))).session, a, 'taskId is idempotent');
    await Promise.all([waitState(a, ['ready']), waitState(b, ['ready'])]);
    const [ra, rb] = await Promise.all([
      testbed.engine.manager.agents.prompt(a, { text: 'slow 2: alpha only', timeoutMs: TURN_MS }),
      testbed.engine.manager.agents.prompt(b, { text: 'slow 1: beta only', timeoutMs: TURN_MS }),
    ]);
    assert.equal(ra.reply, 'echo: alpha only');
    assert.equal(rb.reply, 'echo: beta only');
    assert.equal(a.toInfo().env.ANTHROPIC_API_KEY, '[redacted]');
    await Promise.all([endAndCheckGone(testbed.engine, a), endAndCheckGone(testbed.engine, b)]);
  });
});
