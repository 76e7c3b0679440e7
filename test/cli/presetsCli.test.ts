// `corral template` / `corral macro` for a person: an empty list says so (on stderr, so a script still reads
// nothing), a template that could not start a session is refused when set, and --help shows the body; removing
// ended sessions with `kill --purge` and `prune --older-than`.

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

test('kill --purge removes one session; prune --older-than removes ended ones and says how many', async () => {
  const daemon = await startDaemon();
  try {
    const ids: string[] = [];
    for (const word of ['a', 'b']) {
      const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/echo', word], cwd: daemon.root });
      ids.push(created.body.id);
      await daemon.request('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: 60_000 });
    }
    const purged = await cli(daemon, ['kill', ids[0] ?? '', '--purge']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(purged.stdout, /removed/);
    assert.equal((await daemon.request('GET', `/api/v1/sessions/${ids[0] ?? ''}`)).status, 404);
    const kept = await cli(daemon, ['prune', '--older-than', '7d']);
    assert.equal(kept.stdout, 'removed 0 ended sessions\n');
    const pruned = await cli(daemon, ['prune', '--older-than', '0s']);
    assert.equal(pruned.stdout, 'removed 1 ended session\n');
    assert.equal((await daemon.request('GET', `/api/v1/sessions/${ids[1] ?? ''}`)).status, 404);
    assert.equal((await cli(daemon, ['prune'])).code, 2, '--older-than is required');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('serve --retention DURATION removes sessions that ended longer ago, at start', async () => {
  let daemon = await startDaemon();
  const { dataDir, base } = daemon;
  try {
    const created = await daemon.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['/bin/echo', 'old'], cwd: daemon.root });
    await daemon.request('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: 60_000 });
    assert.equal(await daemon.stop(), 0);
    daemon = await startDaemon({ dataDir, base, args: ['--retention', '1ms'] });
    assert.equal((await daemon.request('GET', `/api/v1/sessions/${created.body.id}`)).status, 404, 'removed by the policy at start');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
