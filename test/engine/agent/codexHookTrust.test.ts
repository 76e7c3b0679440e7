// Codex runs a hook only once it is trusted. Corral writes that trust into the session's isolated HOME beforehand,
// using Codex's own hash of the hook, so the UserPromptSubmit hook reports a turn's start (Codex's notify only
// reports its end). Checked against the real `codex` binary (CODEX_BIN or node_modules): the hash Corral computes
// is the one Codex itself writes when a user trusts a hook, and a session with Corral's hooks shows no review dialog
// and delivers UserPromptSubmit on the first prompt.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { codexProviderArgs, startFakeOpenAI } from '../../helpers/fakeOpenAI.js';
import type { CreateSessionRequest } from '../../../src/protocol/api.js';
import { codexHookHash } from '../../../src/engine/agent/agentHome.js';
import { REPO_ROOT } from '../../helpers/daemonHarness.js';
import { endAndCheckGone, recordEvents, sleep, useAgentEngine, waitState } from '../../helpers/agentTestKit.js';

const CODEX = process.env.CODEX_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'codex');
const START_MS = 45_000;
const TURN_MS = 60_000;
const API_KEY = 'sk-corral-codex-hooks-0123456789abcdef';

const testbed = useAgentEngine(() => startFakeOpenAI({ apiKey: API_KEY }));

function codexRequest(name: string, agent: CreateSessionRequest['agent'], extraArgs: string[]): CreateSessionRequest {
  const cwd = join(testbed.engine.root, name);
  mkdirSync(cwd, { recursive: true });
  return {
    profile: 'codex',
    command: [
      CODEX,
      ...codexProviderArgs(testbed.fake.url),
      ...extraArgs,
    ],
    cwd,
    env: { LANG: 'C.UTF-8' },
    agent: { authToken: API_KEY, isolatedHome: true, preAnswer: true, ...agent },
  };
}

describe('codex hook trust', { concurrency: true }, () => {
  it('the hash Corral computes is the one codex writes when a user trusts the hook (the review dialog, answered)', async () => {
    const command = 'true corral-hash-probe';
    const { session } = await testbed.engine.manager.create(
      codexRequest('probe', { hooks: false }, ['-c', `hooks.UserPromptSubmit=[{hooks=[{type="command",command=${JSON.stringify(command)}}]}]`]),
    );
    await waitState(session, ['waiting_input'], START_MS);
    assert.equal(session.toInfo().agent?.dialog?.id, 'hooks_review', session.stateReason);
    const answered = await testbed.engine.manager.agents.answer(session, { choice: 'Trust all and continue' });
    assert.equal(answered.dialog, 'hooks_review');
    await waitState(session, ['ready'], START_MS);
    const config = readFileSync(join(session.spec.childEnv.HOME ?? '', '.codex', 'config.toml'), 'utf8');
    const written = /\[hooks\.state\."\/<session-flags>\/config\.toml:user_prompt_submit:0:0"\]\s*\ntrusted_hash = "([^"]+)"/.exec(config)?.[1];
    assert.equal(written, codexHookHash('user_prompt_submit', command), config);
    await endAndCheckGone(testbed.engine, session);
  });

  it("Corral's own hooks need no review: ready, and the first prompt delivers UserPromptSubmit before the turn ends", async () => {
    const { session } = await testbed.engine.manager.create(codexRequest('trusted', {}, []));
    const events = recordEvents(session);
    await waitState(session, ['ready'], START_MS);
    // Codex's title spins for a while after its input line is up; with no keys sent that is no turn.
    await sleep(2000);
    assert.deepEqual(events.map((e) => e.event.to).filter((to) => to !== 'initializing'), ['ready'], events.map((e) => `${e.event.to} (${e.event.reason})`).join(' → '));
    const reply = await testbed.engine.manager.agents.prompt(session, { text: 'hello hooks', timeoutMs: TURN_MS });
    assert.equal(reply.reply, 'echo: hello hooks');
    assert.ok(!events.some((e) => e.event.to === 'waiting_input'), events.map((e) => `${e.event.to} (${e.event.reason})`).join(' → '));
    const driver = session.driver;
    assert.ok(driver.kind === 'agent');
    assert.equal(driver.detector.insight.hookEvents.UserPromptSubmit, 1, JSON.stringify(driver.detector.insight.hookEvents));
    await endAndCheckGone(testbed.engine, session);
  });
});
