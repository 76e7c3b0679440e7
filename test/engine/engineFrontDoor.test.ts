// The engine's front door (src/engine/Engine.ts) without any face: what REST and MCP both rely on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/Engine.js';
import { defaultEngineConfig } from '../../src/engine/EngineConfig.js';
import { Store } from '../../src/store/Store.js';

async function withEngine(body: (engine: Engine, root: string, dataDir: string) => Promise<void>): Promise<void> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-front-')));
  const dataDir = join(base, 'data');
  const root = join(base, 'work');
  mkdirSync(root, { recursive: true });
  const store = Store.open(dataDir);
  const engine = new Engine({
    config: { ...defaultEngineConfig(dataDir, [root]), graces: { politeMs: 500, interruptMs: 300, termMs: 500 } },
    store,
    log: () => undefined,
  });
  await engine.start();
  try {
    await body(engine, root, dataDir);
  } finally {
    await engine.shutdown();
    store.close();
    rmSync(base, { recursive: true, force: true });
  }
}

test('a task create is idempotent through the front door, answers SessionInfo, and ending the task ends its session', async () => {
  await withEngine(async (engine) => {
    const first = await engine.sessions.create({ kind: 'pipe', command: ['/bin/sleep', '30'], taskId: 'front-1' });
    assert.equal(first.existing, false);
    assert.equal(first.session.taskId, 'front-1');
    const again = await engine.sessions.create({ kind: 'pipe', command: ['/bin/sleep', '30'], taskId: 'front-1' });
    assert.deepEqual([again.existing, again.session.id], [true, first.session.id]);
    assert.equal(engine.tasks.get('front-1').session.id, first.session.id);
    const { ended } = await engine.tasks.end('front-1');
    assert.deepEqual(ended.map((s) => [s.id, s.state]), [[first.session.id, 'terminated']]);
    assert.throws(() => engine.tasks.get('no-such-task'), { code: 'TASK_NOT_FOUND' });
  });
});

test('createClaude removes the task worktree it made when the session cannot start', async () => {
  await withEngine(async (engine, root, dataDir) => {
    const repo = join(root, 'repo');
    mkdirSync(repo);
    const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README'), 'hello\n');
    git('add', 'README');
    git('commit', '-qm', 'first');
    await assert.rejects(
      engine.agents.createClaude({ executable: join(root, 'no-such-claude'), worktree: { repo, branch: 'task/never' } }),
      { code: 'COMMAND_NOT_FOUND' },
    );
    assert.deepEqual(readdirSync(join(dataDir, 'worktrees')), [], 'the worktree is gone');
    assert.equal(git('worktree', 'list').trim().split('\n').length, 1, 'git no longer lists it');
  });
});

test('by-id calls that answer a promise reject for an unknown session instead of throwing', async () => {
  await withEngine(async (engine) => {
    const prompt = engine.agents.prompt('s_unknown', { text: 'hi' });
    await assert.rejects(prompt, { code: 'SESSION_NOT_FOUND' });
    await assert.rejects(engine.sessions.shellExec('s_unknown', { command: 'true' }), { code: 'SESSION_NOT_FOUND' });
  });
});
