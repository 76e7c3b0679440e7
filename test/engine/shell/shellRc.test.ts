import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngine } from '../../helpers/engineHarness.js';
import { shellExec } from '../../../src/engine/shell/ShellExec.js';

// Shell integration must not cost the user their startup files: each shell still reads the rc it would read
// without Corral, and a nested shell started from the session reads the user's, not the session's.

async function withRcShell(
  argv: string[],
  env: Record<string, string>,
  body: (run: (command: string) => Promise<{ output: string; exitCode: number | null }>) => Promise<void>,
): Promise<void> {
  // ENV runs code in every interactive sh: Corral refuses it unless the operator allows it.
  const engine = await startEngine({ allowEnv: ['ENV'] });
  try {
    const { session } = await engine.manager.create({ profile: 'shell', command: argv, env });
    await body((command) => shellExec(session, engine.manager.history, { command, timeoutMs: 10_000 }));
  } finally {
    await engine.close();
  }
}

function withHome(files: Record<string, string>, body: (home: string) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'corral-rc-home-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(home, name, '..'), { recursive: true });
    writeFileSync(join(home, name), text);
  }
  return body(home).finally(() => rmSync(home, { recursive: true, force: true }));
}

test("bash: the user's ~/.bashrc is read, and its PROMPT_COMMAND still runs after the marks", async () => {
  await withHome({ '.bashrc': 'user_rc=bash\nprompts=0\nPROMPT_COMMAND=\'prompts=$((prompts+1))\'\n' }, async (home) => {
    await withRcShell(['/bin/bash', '-i'], { HOME: home }, async (run) => {
      assert.equal((await run('echo "$user_rc"')).output, 'bash\n');
      const before = Number((await run('echo "$prompts"')).output);
      const after = Number((await run('echo "$prompts"')).output);
      assert.equal(after, before + 1);
      // The user's hook runs after ours: the exit code the marks report is still the command's.
      assert.equal((await run('(exit 3)')).exitCode, 3);
    });
  });
});

test("zsh: the user's .zshenv and .zshrc are read, from HOME and from the user's ZDOTDIR", { skip: !existsSync('/usr/bin/zsh') }, async () => {
  await withHome({ '.zshenv': 'user_env=home\n', '.zshrc': 'user_rc=home\n', 'zdot/.zshenv': 'user_env=zdot\n', 'zdot/.zshrc': 'user_rc=zdot\n' }, async (home) => {
    await withRcShell(['/usr/bin/zsh', '-i'], { HOME: home }, async (run) => {
      assert.equal((await run('echo "$user_env $user_rc ${ZDOTDIR-unset}"')).output, 'home home unset\n');
    });
    const zdotdir = join(home, 'zdot');
    await withRcShell(['/usr/bin/zsh', '-i'], { HOME: home, ZDOTDIR: zdotdir }, async (run) => {
      assert.equal((await run('echo "$user_env $user_rc $ZDOTDIR"')).output, `zdot zdot ${zdotdir}\n`);
    });
  });
});

test("sh: the user's ENV file is read and ENV is handed back to the user's value", { skip: !existsSync('/bin/dash') }, async () => {
  await withHome({ '.shrc': 'user_rc=sh\n' }, async (home) => {
    const rc = join(home, '.shrc');
    await withRcShell(['/bin/dash', '-i'], { HOME: home, ENV: rc }, async (run) => {
      assert.equal((await run('echo "$user_rc $ENV"')).output, `sh ${rc}\n`);
    });
    await withRcShell(['/bin/dash', '-i'], { HOME: home }, async (run) => {
      assert.equal((await run('echo "${ENV-unset}"')).output, 'unset\n');
    });
  });
});
