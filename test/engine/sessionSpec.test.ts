// Issue 15: a caller's mistake that exec would report as a bare errno (and the daemon as 500 SPAWN_FAILED) is
// refused while the spec is built, with a 4xx code of its own, and nothing starts. Against a real engine and the
// real kernel: the longest argument exec takes still runs, one byte more is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine } from '../helpers/engineHarness.js';
import { native } from '../../src/engine/process/nativeBinding.js';
import { ERROR_CATALOG, isCorralError, type ErrorCode } from '../../src/protocol/errors.js';
import type { CreateSessionRequest } from '../../src/protocol/api.js';

/** MAX_ARG_STRLEN: one argument, its NUL included, may take 32 pages. */
const MAX_ARG_BYTES = 32 * native.pageSize() - 1;

async function refusal(create: () => Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await create();
  } catch (error) {
    assert.ok(isCorralError(error), `not a catalog error: ${String(error)}`);
    return { code: error.code, message: error.message };
  }
  assert.fail('the create was not refused');
}

test('a directory, an empty program name, a missing #! interpreter and an overlong argument are 4xx with their own code, and start nothing', async () => {
  const engine = await startEngine();
  try {
    const script = join(engine.root, 'orphan-script');
    writeFileSync(script, '#!/nonexistent/interpreter-xyz -e\necho never\n');
    chmodSync(script, 0o755);
    const subdir = join(engine.root, 'a-directory');
    mkdirSync(subdir);
    const cases: { name: string; request: CreateSessionRequest; code: ErrorCode; mentions: RegExp }[] = [
      { name: 'a directory by path', request: { command: [subdir] }, code: 'COMMAND_NOT_EXECUTABLE', mentions: /directory/ },
      { name: 'a directory, relative', request: { command: ['./a-directory'], cwd: engine.root }, code: 'COMMAND_NOT_EXECUTABLE', mentions: /directory/ },
      { name: 'an empty argv[0]', request: { command: [''] }, code: 'COMMAND_NOT_EXECUTABLE', mentions: /empty/ },
      { name: 'an empty argv[0] (pipe)', request: { kind: 'pipe', command: ['', 'x'] }, code: 'COMMAND_NOT_EXECUTABLE', mentions: /empty/ },
      { name: 'a #! line naming nothing', request: { command: [script] }, code: 'INTERPRETER_NOT_FOUND', mentions: /interpreter-xyz/ },
      { name: 'one argument past the limit', request: { command: ['/bin/true', 'a'.repeat(MAX_ARG_BYTES + 1)] }, code: 'ARGUMENT_TOO_LONG', mentions: /argument 1/ },
      {
        name: 'all arguments together past the stack share',
        request: { kind: 'pipe', command: ['/bin/true', ...Array.from({ length: 80 }, () => 'c'.repeat(100_000))] },
        code: 'ARGUMENT_TOO_LONG',
        mentions: /kernel allows/,
      },
    ];
    const problems: string[] = [];
    for (const c of cases) {
      const { code, message } = await refusal(() => engine.manager.create(c.request));
      if (code !== c.code || !c.mentions.test(message)) problems.push(`${c.name}: ${code} ${message}`);
      const status = ERROR_CATALOG[code].status;
      if (status < 400 || status >= 500) problems.push(`${c.name}: HTTP ${status}`);
    }
    assert.deepEqual(problems, []);
    assert.equal(engine.manager.stats().live, 0, 'a refused create left a session behind');
  } finally {
    await engine.close();
  }
});

test('the limit is the kernel’s own: the longest argument exec takes runs, and the kernel itself refuses one byte more', async () => {
  // The kernel, asked directly: one byte past MAX_ARG_STRLEN is E2BIG.
  assert.equal(spawnSync('/bin/true', ['a'.repeat(MAX_ARG_BYTES + 1)]).error?.message.includes('E2BIG'), true);
  const engine = await startEngine();
  try {
    for (const kind of ['pty', 'pipe'] as const) {
      const { session } = await engine.manager.create({ kind, command: ['/bin/sh', '-c', 'exit 7', 'a'.repeat(MAX_ARG_BYTES)] });
      const exit = await session.whenTerminated();
      assert.equal(exit.code, 7, `${kind}: ${JSON.stringify(exit)}`);
    }
    // A script whose interpreter exists (with an argument on its #! line) still runs.
    const script = join(engine.root, 'good-script');
    writeFileSync(script, '#! /bin/sh -e\nexit 3\n');
    chmodSync(script, 0o755);
    const { session } = await engine.manager.create({ kind: 'pipe', command: [script] });
    assert.equal((await session.whenTerminated()).code, 3);
  } finally {
    await engine.close();
  }
});
