// A turn-end hook that lands after the next turn began belongs to its own turn (issue 17): it must neither end the
// turn running now nor answer its prompt. Claude, Codex and Gemini run for real against the fake APIs. The first
// turn's end hook is held back on its way in (a pass-through wrapper around the session's hook delivery: the one
// place a test can stand in the hook's path) and then sent through the hook socket exactly as Corral's hook command
// sends it, once the second turn is busy and its own start hook is in.

import { request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, type EngineHarness } from '../../helpers/engineHarness.js';
import { startFakeAnthropic, type FakeAnthropic } from '../../helpers/fakeAnthropic.js';
import { codexProviderArgs, startFakeOpenAI } from '../../helpers/fakeOpenAI.js';
import { startFakeGemini } from '../../helpers/fakeGemini.js';
import type { FakeServer } from '../../helpers/fakeProvider.js';
import type { CreateSessionRequest } from '../../../src/protocol/api.js';
import type { Session } from '../../../src/engine/Session.js';
import type { HookEvent } from '../../../src/engine/agent/HookServer.js';
import { HOOK_SECRET_HEADER } from '../../../src/engine/agent/HookServer.js';
import { HOOK_ENV } from '../../../src/engine/agent/hookCommand.js';
import { matchHookRule } from '../../../src/engine/agent/AgentDetector.js';
import { REPO_ROOT } from '../../helpers/daemonHarness.js';
import { endAndCheckGone, recordEvents, sleep, waitState } from '../../helpers/agentTestKit.js';

const BIN = join(REPO_ROOT, 'node_modules', '.bin');
const START_MS = 60_000;
const TURN_MS = 60_000;
const KEYS = { claude: 'sk-ant-corral-test-0123456789abcdefghijkl', codex: 'sk-corral-codex-test-0123456789abcdef', gemini: 'gemini-corral-test-key-0123456789' };

let engine: EngineHarness;
let anthropic: FakeAnthropic;
let openai: FakeServer;
let gemini: FakeServer;

before(async () => {
  anthropic = await startFakeAnthropic();
  openai = await startFakeOpenAI({ apiKey: KEYS.codex });
  gemini = await startFakeGemini({ apiKey: KEYS.gemini });
  engine = await startEngine({ graces: { politeMs: 3000, interruptMs: 1000, termMs: 1000 } });
});

after(async () => {
  await engine.close();
  await Promise.all([anthropic.close(), openai.close(), gemini.close()]);
});

function request_(agent: 'claude' | 'codex' | 'gemini'): CreateSessionRequest {
  const cwd = join(engine.root, `late-${agent}`);
  mkdirSync(cwd, { recursive: true });
  const base = { profile: agent, cwd, taskId: `late-${agent}`, cols: 120, rows: 40, agent: { authToken: KEYS[agent], isolatedHome: true, preAnswer: true } };
  switch (agent) {
    case 'claude':
      return { ...base, command: [process.env.CLAUDE_BIN ?? join(BIN, 'claude')], env: { ANTHROPIC_BASE_URL: anthropic.url, CLAUDE_CODE_MAX_RETRIES: '0', LANG: 'C.UTF-8' } };
    case 'codex':
      return { ...base, command: [process.env.CODEX_BIN ?? join(BIN, 'codex'), ...codexProviderArgs(openai.url, { noRetries: true })], env: { LANG: 'C.UTF-8' } };
    case 'gemini':
      return { ...base, command: [process.env.GEMINI_BIN ?? join(BIN, 'gemini')], env: { LANG: 'C.UTF-8', GOOGLE_GEMINI_BASE_URL: gemini.url } };
  }
}

/** Holds back the first turn-end hook (by the profile's own rules) the session receives; the rest pass through. */
function holdFirstTurnEnd(session: Session): { held: () => HookEvent | null } {
  const rules = session.spec.profile.agent?.hooks?.rules ?? [];
  let held: HookEvent | null = null;
  const deliver = session.deliverHook.bind(session);
  session.deliverHook = (event: HookEvent): void => {
    if (held === null && matchHookRule(rules, event)?.action === 'turn_end') {
      held = event;
      return;
    }
    deliver(event);
  };
  return { held: () => held };
}

/** Posts a hook payload to the session's hook socket with its secret, as Corral's hook command does. */
function sendHook(session: Session, socketPath: string, payload: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: `/hooks/${session.id}`,
        method: 'POST',
        headers: { [HOOK_SECRET_HEADER]: session.spec.childEnv[HOOK_ENV.secret] ?? '', 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = TURN_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await sleep(50);
  assert.ok(condition(), `waited for ${what}`);
}

describe('a late turn-end hook of the previous turn', { concurrency: true }, () => {
  for (const agent of ['claude', 'codex', 'gemini'] as const) {
    it(`${agent}: does not end the next turn or answer its prompt`, async () => {
      const { session } = await engine.manager.create(request_(agent));
      const hold = holdFirstTurnEnd(session);
      assert.equal(session.driver.kind === 'agent' && session.driver.detector.turns.reportsStarts, true, 'its launch installed a turn-start hook');
      await waitState(session, ['ready'], START_MS);
      const driver = session.driver;
      assert.equal(driver.kind, 'agent');
      const insight = driver.detector.insight;
      const startEvent = (session.spec.profile.agent?.hooks?.rules ?? []).find((rule) => rule.action === 'turn_start')?.event ?? '';
      const starts = (): number => insight.hookEvents[startEvent] ?? 0;

      // Turn 1 ends on screen; its end hook is held back.
      const first = await engine.manager.agents.prompt(session, { text: 'first words', timeoutMs: TURN_MS });
      assert.equal(first.state, 'idle', JSON.stringify(first));
      await until(() => hold.held() !== null, 'the first turn-end hook');

      // Turn 2 runs long enough to be busy when turn 1's end hook lands.
      const events = recordEvents(session);
      const second = engine.manager.agents.prompt(session, { text: 'slow 12: second words', timeoutMs: TURN_MS });
      await until(() => starts() >= 2 && session.state === 'busy', 'the second turn busy with its start hook in');
      const status = await sendHook(session, engine.manager.agents.hooks.socketPath, hold.held()?.payload ?? {});
      assert.equal(status, 204);
      // The report is delivered before the hook server answers: the late end has been judged by now.
      assert.equal(session.state, 'busy', `the late end of turn 1 ended turn 2: ${session.stateReason}`);

      const result = await second;
      assert.equal(result.state, 'idle', JSON.stringify(result));
      // Gemini's AfterAgent reply for text streamed in one-character pieces repeats it spaced out after it (a CLI
      // quirk with the fake's slow stream): what matters is whose reply it is.
      assert.match(result.reply ?? '', /^echo: second words/, 'the reply of turn 2, not of turn 1');
      assert.equal(result.replySource, 'hook');
      assert.ok(events.some((e) => e.event.to === 'busy'), events.map((e) => e.event.to).join(' → '));
      await endAndCheckGone(engine, session);
    });
  }
});
