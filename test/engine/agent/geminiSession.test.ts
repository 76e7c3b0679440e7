// Gemini CLI sessions against the real `gemini` CLI (pinned in node_modules) and the fake Gemini API: startup to
// ready, prompt → busy → idle with the reply from the AfterAgent hook, tool approval by raw key at the reported
// moment and by answer, interrupt, API and auth errors, isolation and the process tree gone after terminate.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGemini } from '../../helpers/fakeGemini.js';
import type { CreateSessionRequest } from '../../../src/protocol/api.js';
import type { SessionInfo } from '../../../src/protocol/sessionTypes.js';
import { REPO_ROOT } from '../../helpers/daemonHarness.js';
import { assertDialogConfirmed, assertDialogInfo, endAndCheckGone, enterOnWaiting, recordEvents, sleep, useAgentEngine, waitState, waitUntil } from '../../helpers/agentTestKit.js';

const GEMINI = process.env.GEMINI_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'gemini');
/** Startup to the input box is 2–4 s idle (a Node bundle); a loaded 2-core machine needs far more. */
const START_MS = 60_000;
const TURN_MS = 60_000;
const API_KEY = 'gemini-corral-test-key-0123456789';

const testbed = useAgentEngine(() => startFakeGemini({ apiKey: API_KEY }));

function geminiRequest(name: string, agent: CreateSessionRequest['agent']): CreateSessionRequest {
  return {
    profile: 'gemini',
    command: [GEMINI],
    cwd: testbed.project(name),
    taskId: `gemini-${name}`,
    env: { LANG: 'C.UTF-8', GOOGLE_GEMINI_BASE_URL: testbed.fake.url },
    cols: 120,
    rows: 40,
    agent: { authToken: API_KEY, isolatedHome: true, preAnswer: true, ...agent },
  };
}

describe('gemini sessions against the real CLI', { concurrency: true }, () => {
  it('ready; prompt → busy → idle with the reply (AfterAgent hook); slow turn busy; interrupt; API error recorded; tree gone', async () => {
    const { session } = await testbed.engine.manager.create(geminiRequest('main', {}));
    await waitState(session, ['ready'], START_MS);
    assert.equal(session.toInfo().env.GEMINI_API_KEY, '[redacted]');
    const settings = JSON.parse(readFileSync(join(session.spec.childEnv.HOME ?? '', '.gemini', 'settings.json'), 'utf8')) as { hooksConfig: { enabled: boolean } };
    assert.equal(settings.hooksConfig.enabled, true, 'hooks were installed in the isolated HOME');

    const first = await testbed.engine.manager.agents.prompt(session, { text: 'hello from gemini', timeoutMs: TURN_MS });
    assert.equal(first.state, 'idle');
    assert.equal(first.reply, 'echo: hello from gemini');
    assert.equal(first.replySource, 'hook');

    const slow = testbed.engine.manager.agents.prompt(session, { text: 'slow 20: to be interrupted', timeoutMs: TURN_MS });
    // Busy on screen alone can be a side request's spinner: the turn runs once the API has its request. (How soon
    // busy follows a prompt is measured in bench/agentLatency.ts, not asserted here.)
    await waitUntil('the API has the slow turn', () => testbed.fake.requests.some((r) => r.userText?.includes('slow 20') === true), TURN_MS);
    await waitState(session, ['busy'], TURN_MS);
    await sleep(1500);
    assert.equal(session.state, 'busy', 'still busy while the reply streams');
    session.interrupt();
    const interrupted = await slow;
    assert.equal(interrupted.state, 'idle');
    let cancelled = false;
    for (let i = 0; i < 30 && !cancelled; i++, await sleep(100)) cancelled = (await session.screenSnapshot()).lines.some((line) => line.includes('Request cancelled'));
    assert.ok(cancelled, 'the screen says the request was cancelled');

    // An API error: AfterAgent still fires (prompt_response "[no response text]", ignored), then the screen shows it.
    const failed = await testbed.engine.manager.agents.prompt(session, { text: 'error 400', timeoutMs: TURN_MS });
    assert.equal(failed.state, 'error');
    assert.match(failed.error ?? '', /API Error/);
    const again = await testbed.engine.manager.agents.prompt(session, { text: 'after the error', timeoutMs: TURN_MS });
    assert.equal(again.state, 'idle');
    assert.equal(again.reply, 'echo: after the error');
    // The old error is still on screen; once the hook's hold is over the screen must not bring it back.
    await sleep(2000);
    assert.equal(session.state, 'idle', `after the hold: ${session.stateReason}`);

    await endAndCheckGone(testbed.engine, session);
  });

  it('a tool confirmation is waiting_input only when it takes keys: raw Enter at the reported moment runs the tool; answer works too', async () => {
    const { session } = await testbed.engine.manager.create(geminiRequest('approve', {}));
    await waitState(session, ['ready'], START_MS);
    const enter = enterOnWaiting(session);
    const asked = await testbed.engine.manager.agents.prompt(session, { text: 'bash: touch by-raw-key.txt', timeoutMs: TURN_MS });
    assert.equal(asked.state, 'waiting_input');
    assertDialogConfirmed(await enter.done, 'permission');
    await waitState(session, ['idle'], TURN_MS);
    assert.ok(existsSync(join(session.spec.cwd, 'by-raw-key.txt')), 'the raw Enter approved the command');

    const second = await testbed.engine.manager.agents.prompt(session, { text: 'bash: touch by-answer.txt', timeoutMs: TURN_MS });
    assert.equal(second.state, 'waiting_input');
    assertDialogInfo(second.session, { id: 'permission', question: /^Allow execution of \[Shell\]\?/, selected: 'Allow once' });
    const answered = await testbed.engine.manager.agents.answer(session, { choice: 'Allow once' });
    assert.equal(answered.dialog, 'permission');
    await waitState(session, ['idle'], TURN_MS);
    assert.ok(existsSync(join(session.spec.cwd, 'by-answer.txt')), 'the answer approved the command');
    await endAndCheckGone(testbed.engine, session);
  });

  it('a wrong API key: the turn ends in error with the API error recorded', async () => {
    const { session } = await testbed.engine.manager.create(geminiRequest('badkey', { authToken: 'gemini-wrong-key-000000' }));
    await waitState(session, ['ready'], START_MS);
    const failed = await testbed.engine.manager.agents.prompt(session, { text: 'hello with a bad key', timeoutMs: TURN_MS });
    assert.equal(failed.state, 'error');
    assert.match(failed.error ?? '', /API key not valid/);
    assert.ok(testbed.fake.requests.some((r) => r.reply === 'auth'));
    await endAndCheckGone(testbed.engine, session);
  });

  it('without preAnswer the trust dialog is waiting_input; answered, the CLI restarts itself and is ready', async () => {
    const { session } = await testbed.engine.manager.create(geminiRequest('trust', { preAnswer: false }));
    const events = recordEvents(session);
    await waitState(session, ['waiting_input'], START_MS);
    assert.match(session.stateReason, /trust/);
    const answered = await testbed.engine.manager.agents.answer(session, { choice: 'Trust folder' });
    assert.equal(answered.dialog, 'trust');
    const until = performance.now() + START_MS;
    while (events.at(-1)?.event.to !== 'ready' && performance.now() < until) await sleep(100);
    assert.equal(events.at(-1)?.event.to, 'ready', events.map((e) => `${e.event.to} (${e.event.source}: ${e.event.reason})`).join(' → '));
    const reply = await testbed.engine.manager.agents.prompt(session, { text: 'after trusting', timeoutMs: TURN_MS });
    const screen = (await session.screenSnapshot()).lines.filter((line) => line.trim() !== '').slice(-15).join('\n');
    assert.equal(reply.reply, 'echo: after trusting', `${JSON.stringify({ ...reply, session: undefined })}\n${events.map((e) => `${e.event.to} (${e.event.source}: ${e.event.reason})`).join(' → ')}\n${screen}`);
    await endAndCheckGone(testbed.engine, session);
  });

  it('the model overloaded (503): the Keep trying / Stop dialog is waiting_input with its options; raw Enter at the reported moment keeps trying; Stop ends the turn in error', async () => {
    const { session } = await testbed.engine.manager.create(geminiRequest('retry', {}));
    await waitState(session, ['ready'], START_MS);
    const failures = (): number => testbed.fake.requests.filter((r) => r.userText === 'error 503 overloaded' && r.reply === 'error').length;
    // Counted when the dialog is reported, before the raw Enter below goes in (listeners run in order).
    let failuresAtDialog = -1;
    let infoAtDialog: SessionInfo | null = null;
    const counting = session.onStateChange((event) => {
      if (event.to !== 'waiting_input' || failuresAtDialog >= 0) return;
      failuresAtDialog = failures();
      infoAtDialog = session.toInfo();
    });
    const enter = enterOnWaiting(session);
    const asked = await testbed.engine.manager.agents.prompt(session, { text: 'error 503 overloaded', timeoutMs: TURN_MS });
    counting.dispose();
    assert.equal(asked.state, 'waiting_input', asked.session.stateReason);
    assert.ok(infoAtDialog !== null);
    assertDialogInfo(infoAtDialog, { id: 'retry', question: /high demand/, selected: 'Keep trying' });
    assertDialogConfirmed(await enter.done, 'retry');
    assert.ok(failuresAtDialog > 0);
    // Keep trying sends the request again: the fake answers 503 again and the CLI asks again.
    const until = performance.now() + TURN_MS;
    while (failures() <= failuresAtDialog && performance.now() < until) await sleep(100);
    assert.ok(failures() > failuresAtDialog, 'the raw Enter kept trying');
    await waitState(session, ['waiting_input'], TURN_MS);
    const stopped = await testbed.engine.manager.agents.answer(session, { choice: 'Stop' });
    assert.equal(stopped.dialog, 'retry');
    await waitState(session, ['error'], TURN_MS);
    assert.match(session.toInfo().agent?.lastError ?? '', /overloaded/);
    await endAndCheckGone(testbed.engine, session);
  });

  it('no API key: the key entry box is authenticating; Esc shows the auth dialog, authenticating with its options in the info', async () => {
    const { session } = await testbed.engine.manager.create(geminiRequest('nokey', { authToken: undefined }));
    await waitState(session, ['authenticating'], START_MS);
    assert.ok((await session.screenSnapshot()).lines.some((line) => line.includes('Enter Gemini API Key')));
    assert.equal(session.toInfo().agent?.dialog, null, 'a text box, not a dialog with options');
    session.sendInput(undefined, ['Escape']);
    const until = performance.now() + START_MS;
    while (session.toInfo().agent?.dialog?.id !== 'login' && performance.now() < until) await sleep(100);
    const info = session.toInfo();
    assert.equal(info.state, 'authenticating');
    const dialog = info.agent?.dialog;
    assert.equal(dialog?.state, 'authenticating');
    assert.match(dialog?.question ?? '', /How would you like to authenticate/);
    assert.deepEqual(dialog?.options.map((o) => o.label), ['Sign in with Google', 'Use Gemini API Key', 'Vertex AI']);
    await endAndCheckGone(testbed.engine, session);
  });
});
