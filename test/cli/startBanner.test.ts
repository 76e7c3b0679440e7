// The start banner names the exact token command for the data dir in use, and outside a terminal the same facts are
// one human line on stderr next to the JSON log; the printed command really prints the token.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { corralCommand, REPO_ROOT, startDaemon } from '../helpers/daemonHarness.js';
import { logLineBanner, terminalBanner, tokenCommand } from '../../src/cli/startBanner.js';

test('the token command names --data-dir unless the data dir is the default, quoted for a shell', () => {
  const plainDefault = join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'corral');
  assert.equal(tokenCommand(plainDefault), 'corral token');
  assert.equal(tokenCommand('/srv/corral data'), "corral token --data-dir '/srv/corral data'");
  const facts = { url: 'http://127.0.0.1:7433', dataDir: '/srv/c', roots: ['/w'] };
  assert.match(terminalBanner(facts), /token: {5}corral token --data-dir \/srv\/c /);
  assert.match(terminalBanner(facts), /log in with: corral token --url --data-dir \/srv\/c\)/);
  assert.equal(logLineBanner(facts).split('\n').length, 2, 'one line');
});

test('outside a terminal serve writes one human line on stderr whose token command works', async () => {
  const daemon = await startDaemon();
  try {
    const deadline = performance.now() + 30_000;
    while (!daemon.stderr().includes('corral: listening on')) {
      assert.ok(performance.now() < deadline, `no banner line in: ${daemon.stderr()}`);
      await sleep(50);
    }
    const line = daemon.stderr().split('\n').find((l) => l.startsWith('corral: listening on')) ?? '';
    assert.ok(line.includes(daemon.url), line);
    assert.ok(line.includes(`roots ${daemon.root}`), line);
    const command = /token: (corral token[^;]*);/.exec(line)?.[1];
    assert.equal(command, `corral token --data-dir ${daemon.dataDir}`);
    const { file, args } = corralCommand(false);
    const env = { ...process.env };
    delete env.CORRAL_DATA_DIR;
    delete env.CORRAL_URL;
    delete env.CORRAL_TOKEN;
    const child = spawn(file, [...args, ...command.split(' ').slice(1)], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 0);
    assert.equal(stdout.trim(), daemon.token);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
