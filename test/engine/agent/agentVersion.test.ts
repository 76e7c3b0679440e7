// Version drift is detected, not suffered: an agent session's info says which CLI version runs and whether its
// profile was verified against it. The real `codex` binary (CODEX_BIN or node_modules) against the fake OpenAI API;
// the unverified version comes from a real wrapper script that execs the same binary but answers `--version` with
// a release that does not exist (what a fresh upgrade looks like to the profile).

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, type EngineHarness } from '../../helpers/engineHarness.js';
import { codexProviderArgs, startFakeOpenAI } from '../../helpers/fakeOpenAI.js';
import type { FakeServer } from '../../helpers/fakeProvider.js';
import type { Session } from '../../../src/engine/Session.js';
import type { AgentVersionReport } from '../../../src/protocol/events.js';
import { REPO_ROOT } from '../../helpers/daemonHarness.js';
import { endAndCheckGone, sleep, waitState } from '../../helpers/agentTestKit.js';

const CODEX = process.env.CODEX_BIN ?? join(REPO_ROOT, 'node_modules', '.bin', 'codex');
const START_MS = 45_000;
const API_KEY = 'sk-corral-codex-version-0123456789abcdef';
const DRIFT_VERSION = '0.999.0-drift';

let engine: EngineHarness;
let fake: FakeServer;
/** `agent.version` engine events (what SSE and webhooks carry), by session. */
const versionEvents = new Map<string, AgentVersionReport[]>();

before(async () => {
  fake = await startFakeOpenAI({ apiKey: API_KEY });
  engine = await startEngine({ graces: { politeMs: 3000, interruptMs: 1000, termMs: 1000 } });
  engine.manager.onEvent((event) => {
    if (event.type === 'agent.version') versionEvents.set(event.sessionId, [...(versionEvents.get(event.sessionId) ?? []), event.version]);
  });
});

after(async () => {
  await engine.close();
  await fake.close();
});

function providerArgs(): string[] {
  return codexProviderArgs(fake.url);
}

async function start(name: string, program: string): Promise<Session> {
  const cwd = join(engine.root, name);
  mkdirSync(cwd, { recursive: true });
  const { session } = await engine.manager.create({
    profile: 'codex',
    command: [program, ...providerArgs()],
    cwd,
    env: { LANG: 'C.UTF-8' },
    agent: { authToken: API_KEY, isolatedHome: true, preAnswer: true },
    // A wrapper script outside node_modules execs the real binary: a sandbox binds the program's own install
    // directory only (the wrapper's), so codex would not be found inside. Versions, not sandboxes, are tested here.
    sandbox: 'none',
  });
  return session;
}

/** The version is read in the background after the start: poll the info for it. */
async function versionOf(session: Session): Promise<NonNullable<ReturnType<Session['toInfo']>['agent']>> {
  const until = Date.now() + START_MS;
  for (;;) {
    const agent = session.toInfo().agent;
    assert.ok(agent !== undefined, 'an agent session has an agent block in its info');
    if (agent.version !== null || Date.now() > until) return agent;
    await sleep(100);
  }
}

describe('agent CLI versions in the session info', { concurrency: true }, () => {
  it('the real codex reports its version; it is verified exactly when the profile lists it', async () => {
    const real = /(\d+\.\d+\.\d+)/.exec(execFileSync(CODEX, ['--version'], { encoding: 'utf8' }))?.[1];
    assert.ok(real !== undefined);
    const session = await start('real', CODEX);
    const agent = await versionOf(session);
    assert.equal(agent.version, real);
    assert.deepEqual(agent.verifiedVersions, session.spec.profile.verifiedVersions);
    assert.equal(agent.versionVerified, session.spec.profile.verifiedVersions.includes(real));
    assert.deepEqual(versionEvents.get(session.id), [
      { profile: 'codex', version: real, verified: agent.versionVerified, verifiedVersions: session.spec.profile.verifiedVersions },
    ]);
    await waitState(session, ['ready'], START_MS);
    await endAndCheckGone(engine, session);
  });

  it('a version the profile was not verified against: versionVerified false, the session still runs', async () => {
    const wrapper = join(engine.root, 'codex-drift');
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "codex-cli ${DRIFT_VERSION}"; exit 0; fi\nexec '${CODEX}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const session = await start('drift', wrapper);
    const agent = await versionOf(session);
    assert.equal(agent.version, DRIFT_VERSION);
    assert.equal(agent.versionVerified, false);
    // The event announces it to SSE and webhook subscribers (the info is set before the event is sent).
    assert.deepEqual(versionEvents.get(session.id)?.map((e) => [e.version, e.verified]), [[DRIFT_VERSION, false]]);
    await waitState(session, ['ready'], START_MS);
    const reply = await engine.manager.agents.prompt(session, { text: 'hello from a drifted codex', timeoutMs: 60_000 });
    assert.equal(reply.reply, 'echo: hello from a drifted codex');
    assert.equal(reply.session.agent?.versionVerified, false);
    await endAndCheckGone(engine, session);
  });
});
