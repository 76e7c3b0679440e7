// `corral template` / `corral macro` for a person: an empty list says so (on stderr, so a script still reads
// nothing), a template that could not start a session is refused when set, and --help shows the body.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { corralCommand, REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';

async function cli(daemon: DaemonHandle, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { file, args: base } = corralCommand(false);
  const child = spawn(file, [...base, ...args, '--data-dir', daemon.dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

test('template and macro lists say when they are empty; a bad template is refused at set; --help shows the body', async () => {
  const daemon = await startDaemon();
  try {
    for (const [command, noun] of [['template', 'templates'], ['macro', 'macros']] as const) {
      const empty = await cli(daemon, [command, 'ls']);
      assert.equal(empty.code, 0, empty.stderr);
      assert.equal(empty.stdout, '');
      assert.match(empty.stderr, new RegExp(`no ${noun} yet`));
    }
    const bad = await cli(daemon, ['template', 'set', 'bad', '{"command":["no-such-program-xyz"]}']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Template "bad" was not saved: Cannot run "no-such-program-xyz"/);
    const help = await cli(daemon, ['template', '--help']);
    assert.match(help.stdout, /"secretEnv"/);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
