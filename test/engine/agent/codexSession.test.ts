// Codex CLI sessions against the real `codex` binary (pinned in node_modules) and the fake OpenAI Responses API:
// startup to ready, prompt → busy → idle with the reply from notify, approval by raw key at the reported moment
// and by answer, interrupt, API and auth errors, isolation and the process tree gone after terminate.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { codexProviderArgs, startFakeOpenAI } from '../../helpers/fakeOpenAI.js';
import type { CreateSessionRequest } from '../../../src/protocol/api.js';
import { REPO_ROOT } from '../../helpers/daemonHarness.js';
import { assertDialogConfirmed, assertDialogInfo, endAndCheckGone, enterOnWaiting, recordEvents, sleep, useAgentEngine, waitState } from '../../helpers/agentTestKit.js';

const CODEX = process.env.CODEX_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'codex');
/** Startup to the input box is ~0.5 s idle; a loaded 2-core machine running other suites needs far more. */
const START_MS = 45_000;
const TURN_MS = 60_000;
const API_KEY = 'sk-corral-codex-test-0123456789abcdef';

const testbed = useAgentEngine(() => startFakeOpenAI({ apiKey: API_KEY }));

/** The fake as a custom provider: 0.169 ignores OPENAI_BASE_URL (docs/agent-clis.md); no retries so errors show at once. */
function providerArgs(): string[] {
  return codexProviderArgs(testbed.fake.url, { noRetries: true });
}

function codexRequest(name: string, agent: CreateSessionRequest['agent'], extraArgs: string[] = []): CreateSessionRequest {
  return {
    profile: 'codex',
    command: [CODEX, ...providerArgs(), ...extraArgs],
    cwd: testbed.project(name),
    taskId: `codex-${name}`,
    env: { LANG: 'C.UTF-8' },
    cols: 120,
    rows: 40,
    agent: { authToken: API_KEY, isolatedHome: true, preAnswer: true, ...agent },
  };
}

describe('codex sessions against the real CLI', { concurrency: true }, () => {
  it('ready; prompt → busy → idle with the reply (notify); slow turn busy; interrupt; API errors (500, 429) recorded; tree gone', async () => {
    const { session } = await testbed.engine.manager.create(codexRequest('main', {}));
    const events = recordEvents(session);
    await waitState(session, ['ready'], START_MS);
    assert.equal(session.toInfo().env.OPENAI_API_KEY, '[redacted]');
    const config = readFileSync(join(session.spec.childEnv.HOME ?? '', '.codex', 'config.toml'), 'utf8');
    assert.match(config, /trust_level = "trusted"/, 'preAnswer trusted the cwd');

    const first = await testbed.engine.manager.agents.prompt(session, { text: 'hello from codex', timeoutMs: TURN_MS });
    assert.equal(first.state, 'idle');
    assert.equal(first.reply, 'echo: hello from codex');
    assert.equal(first.replySource, 'hook');
    assert.ok(events.some((e) => e.event.from === 'busy' && e.event.to === 'idle'));

    // How soon busy follows the submit is measured in bench/, not asserted here (a loaded machine stretches it).
    const slow = testbed.engine.manager.agents.prompt(session, { text: 'slow 20: to be interrupted', timeoutMs: TURN_MS });
    await waitState(session, ['busy'], TURN_MS);
    await sleep(1500);
    assert.equal(session.state, 'busy', 'still busy while the reply streams (title spinner)');
    session.interrupt();
    const interrupted = await slow;
    assert.equal(interrupted.state, 'idle');
    assert.ok((await session.screenSnapshot()).lines.some((line) => line.includes('Conversation interrupted')));

    const failed = await testbed.engine.manager.agents.prompt(session, { text: 'error 500', timeoutMs: TURN_MS });
    assert.equal(failed.state, 'error');
    assert.match(failed.error ?? '', /high demand|500/);
    const limited = await testbed.engine.manager.agents.prompt(session, { text: 'error 429', timeoutMs: TURN_MS });
    assert.equal(limited.state, 'error');
    assert.match(limited.error ?? '', /429/);
    const again = await testbed.engine.manager.agents.prompt(session, { text: 'after the error', timeoutMs: TURN_MS });
    assert.equal(again.state, 'idle');
    assert.equal(again.reply, 'echo: after the error');
    // The old error is still on screen; once the hook's hold is over the screen must not bring it back.
    await sleep(2000);
    assert.equal(session.state, 'idle', `after the hold: ${session.stateReason}`);
    await endAndCheckGone(testbed.engine, session);
  });

  it('an approval dialog is waiting_input only when it takes keys: raw Enter at the reported moment runs the tool; answer works too', async () => {
    const { session } = await testbed.engine.manager.create(codexRequest('approve', {}, ['-a', 'on-request']));
    await waitState(session, ['ready'], START_MS);
    const enter = enterOnWaiting(session);
    const events = recordEvents(session);
    const asked = await testbed.engine.manager.agents.prompt(session, { text: 'bash: touch by-raw-key.txt', timeoutMs: TURN_MS });
    assert.equal(asked.state, 'waiting_input', `${JSON.stringify({ ...asked, session: undefined })} ${events.map((e) => `${e.event.to} (${e.event.source}: ${e.event.reason})`).join(' → ')}`);
    assertDialogConfirmed(await enter.done, 'permission');
    await waitState(session, ['idle'], TURN_MS);
    assert.ok(existsSync(join(session.spec.cwd, 'by-raw-key.txt')), 'the raw Enter approved the command');

    const second = await testbed.engine.manager.agents.prompt(session, { text: 'bash: touch by-answer.txt', timeoutMs: TURN_MS });
    assert.equal(second.state, 'waiting_input');
    assertDialogInfo(second.session, { id: 'permission', question: /^Would you like to run the following command\?$/, selected: 'Yes, proceed (y)' });
    const answered = await testbed.engine.manager.agents.answer(session, { choice: 'Yes, proceed' });
    assert.equal(answered.dialog, 'permission');
    await waitState(session, ['idle'], TURN_MS);
    assert.ok(existsSync(join(session.spec.cwd, 'by-answer.txt')), 'the answer approved the command');
    await endAndCheckGone(testbed.engine, session);
  });

  it('a wrong API key: the turn ends in error with the 401 recorded', async () => {
    const { session } = await testbed.engine.manager.create(codexRequest('badkey', { authToken: 'sk-wrong-key-000000000000' }));
    await waitState(session, ['ready'], START_MS);
    const failed = await testbed.engine.manager.agents.prompt(session, { text: 'hello with a bad key', timeoutMs: TURN_MS });
    assert.equal(failed.state, 'error');
    assert.match(failed.error ?? '', /401/);
    assert.ok(testbed.fake.requests.some((r) => r.reply === 'auth'));
    await endAndCheckGone(testbed.engine, session);
  });

  it('a git repo without preAnswer: the trust dialog is waiting_input, answered → ready; with the opt-in it is auto-answered', async () => {
    const request = (name: string, agent: CreateSessionRequest['agent']): CreateSessionRequest => {
      const req = codexRequest(name, { preAnswer: false, ...agent });
      execFileSync('git', ['init', '-q'], { cwd: req.cwd });
      return req;
    };
    const { session } = await testbed.engine.manager.create(request('trust', {}));
    const events = recordEvents(session);
    await waitState(session, ['waiting_input'], START_MS);
    assert.match(session.stateReason, /trust/);
    const answered = await testbed.engine.manager.agents.answer(session, { choice: 'Trust and continue' });
    assert.equal(answered.dialog, 'trust');
    await waitState(session, ['ready'], START_MS);
    // Codex draws its main screen (input line included) before it decides to ask, so `ready` can come first
    // (docs/agent-clis.md); what matters is that the dialog is reported and answered, and ready follows.
    assert.deepEqual(events.map((e) => e.event.to).filter((s) => s !== 'ready').slice(0, 1), ['waiting_input']);
    assert.equal(events.at(-1)?.event.to, 'ready');
    assert.match(readFileSync(join(session.spec.childEnv.HOME ?? '', '.codex', 'config.toml'), 'utf8'), /trust_level = "trusted"/, 'the CLI stored the trust');

    const { session: auto } = await testbed.engine.manager.create(request('trust-auto', { autoAnswer: ['trust'] }));
    const autoEvents = recordEvents(auto);
    const until = performance.now() + START_MS;
    const answeredThenReady = (): boolean => {
      const asked = autoEvents.findIndex((e) => e.event.to === 'waiting_input');
      return asked >= 0 && autoEvents.slice(asked).some((e) => e.event.to === 'ready');
    };
    while (!answeredThenReady() && performance.now() < until) await sleep(100);
    assert.ok(answeredThenReady(), `the dialog was seen, then auto-answered: ${autoEvents.map((e) => e.event.to).join(' → ')}`);
    await Promise.all([endAndCheckGone(testbed.engine, session), endAndCheckGone(testbed.engine, auto)]);
  });

  it('no login and the OpenAI provider: the sign-in screen is authenticating with its options in the info', async () => {
    const cwd = testbed.project('nologin');
    const { session } = await testbed.engine.manager.create({
      profile: 'codex',
      command: [CODEX, '-c', 'model_provider="openai"'],
      cwd,
      env: { LANG: 'C.UTF-8' },
      agent: { isolatedHome: true, preAnswer: true },
    });
    await waitState(session, ['authenticating'], START_MS);
    const until = performance.now() + START_MS;
    while (session.toInfo().agent?.dialog?.takesKeys !== true && performance.now() < until) await sleep(100);
    const dialog = session.toInfo().agent?.dialog;
    assert.equal(dialog?.id, 'login');
    assert.match(dialog?.question ?? '', /Choose how you want to use Codex/);
    assert.equal(dialog?.options[0]?.label, 'Sign in with ChatGPT');
    assert.equal(dialog?.options.find((o) => o.selected)?.label, 'Sign in with ChatGPT');
    assert.ok(dialog?.options.some((o) => /another way/.test(o.label)), JSON.stringify(dialog?.options));
    await endAndCheckGone(testbed.engine, session);
  });
});
