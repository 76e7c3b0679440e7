// Hook reports reach only the session whose secret they carry, and the agent self-check reports a profile that
// never matches the screen as `error` (profile_mismatch, source timer) instead of leaving it busy.

import { mkdtempSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HookServer, HOOK_SECRET_HEADER, newHookSecret, type HookEvent } from '../../../src/engine/agent/HookServer.js';
import { startEngine } from '../../helpers/engineHarness.js';

function post(socketPath: string, path: string, secret: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST', headers: { [HOOK_SECRET_HEADER]: secret, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hook server', () => {
  it('delivers a report only to the session whose secret it carries; a wrong or other session secret is refused', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'corral-hooks-')));
    const server = new HookServer(dir);
    try {
      const socket = await server.start();
      const a: HookEvent[] = [];
      const b: HookEvent[] = [];
      const idA = 's_AAAAAAAAAAAAAAAAAAAAAA';
      const idB = 's_BBBBBBBBBBBBBBBBBBBBBB';
      const secretA = newHookSecret();
      const secretB = newHookSecret();
      server.register(idA, secretA, (event) => a.push(event));
      const unregisterB = server.register(idB, secretB, (event) => b.push(event));
      const stop = JSON.stringify({ hook_event_name: 'Stop', last_assistant_message: 'hi' });
      assert.equal(await post(socket, `/hooks/${idA}`, secretA, stop), 204);
      assert.equal(await post(socket, `/hooks/${idA}`, secretB, stop), 403, "B's secret does not speak for A");
      assert.equal(await post(socket, `/hooks/${idB}`, 'guess', stop), 403);
      assert.equal(await post(socket, `/hooks/${idB}`, secretB, 'not json'), 204);
      unregisterB();
      assert.equal(await post(socket, `/hooks/${idB}`, secretB, stop), 403, 'an ended session takes no reports');
      assert.equal(a.length, 1);
      assert.equal(a[0]?.name, 'Stop');
      assert.equal(b.length, 0);
      assert.equal(server.refused, 4);
    } finally {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('agent self-check', () => {
  it('a program the profile never matches ends up error with reason profile_mismatch from the timer', async () => {
    const profiles = realpathSync(mkdtempSync(join(tmpdir(), 'corral-profiles-')));
    writeFileSync(
      join(profiles, 'mute.json'),
      JSON.stringify({
        name: 'mute',
        description: 'an agent profile whose screen never shows up',
        command: ['sh', '-c', 'echo nothing to see; sleep 60'],
        stateDetection: 'agent',
        screen: { inputReady: ['^never-shown> '] },
        agent: { selfCheckMs: 1000 },
      }),
    );
    const engine = await startEngine({ profileDirs: [profiles] });
    try {
      const { session } = await engine.manager.create({ profile: 'mute', cwd: engine.root });
      assert.equal(await session.waitFor({ states: ['error'] }, 15_000), 'state');
      assert.match(session.stateReason, /^profile_mismatch/);
      assert.equal(session.toInfo().stateSource, 'timer');
      await engine.manager.terminate(session.id);
    } finally {
      await engine.close();
      rmSync(profiles, { recursive: true, force: true });
    }
  });

  it('a CLI whose screen stops matching mid-turn (a new release redrew it) is not left busy: error profile_mismatch', async () => {
    // A real program in a real PTY standing in for a CLI upgraded under its profile: its input line and its first
    // spinner match the profile, then the turn goes on under a status line the profile does not know.
    const profiles = realpathSync(mkdtempSync(join(tmpdir(), 'corral-profiles-')));
    const script = [
      'printf "READY> "',
      'read line',
      'i=0; while [ $i -lt 10 ]; do printf "\\r* working %s (esc to interrupt)" $i; i=$((i+1)); sleep 0.1; done',
      'while :; do printf "\\033[2J\\033[H~ pondering in a new way %s" $i; i=$((i+1)); sleep 0.2; done',
    ].join('\n');
    writeFileSync(
      join(profiles, 'drifted.json'),
      JSON.stringify({
        name: 'drifted',
        description: 'an agent profile whose CLI changed its busy screen',
        command: ['sh', '-c', script],
        stateDetection: 'agent',
        screen: { inputReady: ['^READY> '], busy: ['esc to interrupt\\)'] },
        agent: { selfCheckMs: 2000 },
      }),
    );
    const engine = await startEngine({ profileDirs: [profiles] });
    try {
      const { session } = await engine.manager.create({ profile: 'drifted', cwd: engine.root });
      const states: string[] = [];
      session.onStateChange((event) => states.push(event.to));
      assert.equal(await session.waitFor({ states: ['ready'] }, 15_000), 'state');
      session.write('go\r');
      assert.equal(await session.waitFor({ states: ['error'] }, 30_000), 'state', `states: ${states.join(' → ')}`);
      assert.match(session.stateReason, /^profile_mismatch: nothing the drifted profile knows/);
      assert.equal(session.toInfo().stateSource, 'timer');
      assert.ok(states.includes('busy'), `the turn was busy before the screen stopped matching: ${states.join(' → ')}`);
      await engine.manager.terminate(session.id);
    } finally {
      await engine.close();
      rmSync(profiles, { recursive: true, force: true });
    }
  });

  it('a screen the profile knows that stays unchanged (a dialog waiting for a person, an idle input line) is no mismatch', async () => {
    const profiles = realpathSync(mkdtempSync(join(tmpdir(), 'corral-profiles-')));
    writeFileSync(
      join(profiles, 'still.json'),
      JSON.stringify({
        name: 'still',
        description: 'an agent profile whose program draws its input line once and waits',
        command: ['sh', '-c', 'printf "READY> "; sleep 60'],
        stateDetection: 'agent',
        screen: { inputReady: ['^READY> '] },
        agent: { selfCheckMs: 1000 },
      }),
    );
    const engine = await startEngine({ profileDirs: [profiles] });
    try {
      const { session } = await engine.manager.create({ profile: 'still', cwd: engine.root });
      assert.equal(await session.waitFor({ states: ['ready'] }, 15_000), 'state');
      // Several self-check periods with nothing new on screen: still ready.
      assert.equal(await session.waitFor({ states: ['error'] }, 5000), 'timeout', session.stateReason);
      assert.equal(session.state, 'ready');
      await engine.manager.terminate(session.id);
    } finally {
      await engine.close();
      rmSync(profiles, { recursive: true, force: true });
    }
  });
});
