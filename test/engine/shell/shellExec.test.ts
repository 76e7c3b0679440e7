import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startEngine, type EngineHarness } from '../../helpers/engineHarness.js';
import { shellExec } from '../../../src/engine/shell/ShellExec.js';
import type { Session } from '../../../src/engine/Session.js';
import type { ShellExecRequest } from '../../../src/protocol/api.js';

const SHELLS = ['/bin/bash', '/usr/bin/zsh', '/bin/dash'].filter((path) => existsSync(path));

async function withShell(shell: string, body: (engine: EngineHarness, session: Session, run: (r: ShellExecRequest | string) => ReturnType<typeof shellExec>) => Promise<void>): Promise<void> {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: [shell, '-i'] });
    const run = (request: ShellExecRequest | string) =>
      shellExec(session, engine.manager.history, typeof request === 'string' ? { command: request, timeoutMs: 10_000 } : request);
    await body(engine, session, run);
  } finally {
    await engine.close();
  }
}

for (const shell of SHELLS) {
  const name = shell.split('/').pop() ?? shell;

  test(`${name}: exec reports exit codes 0, 1, 42 and death by signal (128+9) exactly`, async () => {
    await withShell(shell, async (_engine, _session, run) => {
      assert.equal((await run('true')).exitCode, 0);
      assert.equal((await run('false')).exitCode, 1);
      assert.equal((await run('(exit 42)')).exitCode, 42);
      const killed = await run(`sh -c 'kill -9 $$'`);
      assert.equal(killed.exitCode, 137);
      assert.equal(killed.timedOut, false);
    });
  });

  test(`${name}: exec output is exactly what the command wrote (no echo, no prompt, no marks)`, async () => {
    await withShell(shell, async (_engine, session, run) => {
      const raw = await run({ command: `printf 'a\\tb\\nc'`, format: 'raw', timeoutMs: 10_000 });
      assert.equal(raw.output, 'a\tb\r\nc');
      const text = await run(`printf 'x\\n\\033[31mred\\033[0m\\n'`);
      assert.equal(text.output, 'x\nred\n');
      // The offsets point at the same bytes in the session's raw stream.
      // The offsets point at the same bytes in the session's raw stream (zsh adds its PROMPT_SP tail there).
      const bytes = session.output.read(raw.outputStart, raw.outputEnd - raw.outputStart).data.toString();
      assert.ok(bytes.startsWith('a\tb\r\nc'), JSON.stringify(bytes));
    });
  });

  test(`${name}: multi-line commands and heredocs run as one exec`, async () => {
    await withShell(shell, async (_engine, _session, run) => {
      const multi = await run('echo one\necho two\n(exit 3)');
      assert.equal(multi.output, 'one\ntwo\n');
      assert.equal(multi.exitCode, 3);
      const heredoc = await run("cat <<'EOF'\nline $1\n  indented\nEOF");
      assert.equal(heredoc.output, 'line $1\n  indented\n');
      assert.equal(heredoc.exitCode, 0);
    });
  });

  test(`${name}: cd is tracked in the reply's cwd and the history`, async () => {
    await withShell(shell, async (engine, session, run) => {
      const result = await run('cd /usr/bin');
      assert.equal(result.cwd, '/usr/bin');
      assert.equal((await run('pwd')).output, '/usr/bin\n');
      const history = engine.store.listCommands(session.id, { limit: 10 });
      assert.deepEqual(history.map((c) => [c.text, c.exitCode, c.cwd]), [
        ['cd /usr/bin', 0, '/usr/bin'],
        ['pwd', 0, '/usr/bin'],
      ]);
      assert.ok(history.every((c) => c.outputEnd !== null && c.outputEnd >= c.outputStart && c.durationMs !== null));
    });
  });

  test(`${name}: a forged end mark printed by the command does not end it early`, async () => {
    await withShell(shell, async (_engine, _session, run) => {
      const result = await run(`printf '\\033]133;D;0\\007\\033]633;D;0\\007'; sleep 0.2; echo after; exit_code_is=7; (exit 7)`);
      assert.equal(result.exitCode, 7);
      assert.match(result.output, /after\n$/);
    });
  });

  test(`${name}: a nested interactive sh prints none of the session's marks and does not end the command`, async () => {
    await withShell(shell, async (_engine, _session, run) => {
      // An interactive sh reads $ENV: it must not find the session's integration there (sh sessions set it).
      const result = await run(`printf 'true\\n' | sh -i; echo after; (exit 7)`);
      assert.equal(result.exitCode, 7);
      assert.match(result.output, /after\n$/);
    });
  });
}

test('bash: states come from the marks (ready, busy, idle) with source shell-integration', async () => {
  await withShell('/bin/bash', async (engine, session, run) => {
    await run('true');
    const events = engine.store.listEvents(session.id, { limit: 100 });
    assert.deepEqual(
      events.slice(1).map((e) => [e.to, e.source]),
      [
        ['ready', 'shell-integration'],
        ['busy', 'shell-integration'],
        ['idle', 'shell-integration'],
      ],
    );
  });
});

test('bash: a running command reads input sent while exec waits', async () => {
  await withShell('/bin/bash', async (_engine, session, run) => {
    const pending = run(`read -r answer; echo "got $answer"`);
    await session.waitFor({ states: ['busy'] }, 5000);
    session.sendInput('forty two\r', undefined);
    const result = await pending;
    assert.match(result.output, /got forty two\n$/);
    assert.equal(result.exitCode, 0);
  });
});

test('bash: exec past its timeout says so, keeps running, refuses a second exec; after an interrupt the next exec works', async () => {
  await withShell('/bin/bash', async (engine, session, run) => {
    assert.equal(await session.waitFor({ states: ['ready'] }, 10_000), 'state');
    // 3 s, not less: under a full parallel suite bash took over 500 ms to reach the echo (a fresh-clone CI run).
    const slow = await run({ command: 'echo started; sleep 30', timeoutMs: 3000 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.exitCode, null);
    assert.equal(slow.output, 'started\n');
    assert.equal(session.state, 'busy');
    await assert.rejects(run('echo no'), { code: 'SESSION_BUSY' });
    session.interrupt();
    assert.equal(await session.waitFor({ states: ['idle'] }, 5000), 'state');
    const next = await run('echo next');
    assert.equal(next.output, 'next\n');
    const history = engine.store.listCommands(session.id, { limit: 10 });
    assert.equal(history[0]?.timedOut, true);
    assert.equal(history[0]?.exitCode, 130);
    assert.notEqual(history[0]?.endedAt, null);
  });
});

test('bash: 1,000 execs in a row return their own output and exit code, none drifting into the next', async () => {
  await withShell('/bin/bash', async (engine, session, run) => {
    for (let i = 0; i < 1000; i++) {
      const result = await run(`echo ${i}; (exit ${i % 256})`);
      if (result.output !== `${i}\n` || result.exitCode !== i % 256) {
        assert.fail(`exec ${i}: ${JSON.stringify(result)}`);
      }
    }
    const page = engine.store.listCommands(session.id, { afterSeq: 990, limit: 100 });
    assert.equal(page.at(-1)?.seq, 1000);
  });
});

test('a shell without integration (an unknown shell) refuses exec with SHELL_INTEGRATION_UNAVAILABLE and says so in its state', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: ['/bin/cat'] });
    await assert.rejects(shellExec(session, engine.manager.history, { command: 'echo hi', timeoutMs: 300 }), { code: 'SHELL_INTEGRATION_UNAVAILABLE' });
    session.write('hello\n');
    assert.equal(await session.waitFor({ states: ['idle', 'ready'] }, 5000), 'state');
    assert.match(session.stateReason, /no shell integration.*quiet rule/);
  } finally {
    await engine.close();
  }
});
