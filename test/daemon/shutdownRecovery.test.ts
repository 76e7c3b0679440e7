// Proves PRODUCT §1.6 shutdown and crash recovery with a real daemon: `shutdown --end-sessions` ends every session's
// whole tree and exits 0 with the sessions recorded as `shutdown`; with sessions the daemon owns itself
// (`--session-host daemon`), after kill -9 the next start kills what is left of the old trees and marks them `lost`,
// keeping their output readable, and never signals a pid whose identity is stale. (Sessions under holders survive a
// kill -9 instead: test/daemon/durableSessions.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corralCommand, REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { Store } from '../../src/store/Store.js';
import { identify, isAlive, type ProcessIdentity } from '../../src/engine/process/ProcessIdentity.js';
import { createSession, fixture, identitiesOfPids, markedProcesses, readText, sessionTree, stillAlive, waitForText } from '../helpers/coreSupport.js';

interface Started {
  info: SessionInfo;
  /** Every process of the session seen while it ran (tree + printed grandchildren). */
  processes: ProcessIdentity[];
}

/** A pty session that ignores signals and has a setsid and a double-forked grandchild, and a pipe session. */
async function startTrees(daemon: DaemonHandle): Promise<Started[]> {
  const script = `echo before-the-end; ${fixture('setsid-grandchild.sh')} & ${fixture('double-fork.sh')} & exec ${fixture('ignore-signals.sh')}`;
  const stubborn = await createSession(daemon, { command: ['/bin/sh', '-c', script], name: 'stubborn' });
  const text = await waitForText(daemon, stubborn.id, String.raw`ready`);
  // The two grandchild pids may print after "ready": wait for both.
  const full = identitiesOfPids(text).length === 2 ? text : await waitForText(daemon, stubborn.id, String.raw`^\d+\s*$[\s\S]*^\d+\s*$`);
  const grandchildren = identitiesOfPids(full);
  assert.equal(grandchildren.length, 2, JSON.stringify(full));
  const piped = await createSession(daemon, { kind: 'pipe', command: ['/bin/sh', '-c', 'echo piped-output; exec sleep 1000'], name: 'piped' });
  await waitForText(daemon, piped.id, 'piped-output');
  return [
    { info: stubborn, processes: [...sessionTree(stubborn), ...grandchildren] },
    { info: piped, processes: sessionTree(piped) },
  ];
}

test('shutdown with endSessions ends every session tree, exits 0, and the store records them as shutdown', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const started = await startTrees(first);
    const code = await first.stop('end-sessions');
    assert.equal(code, 0, first.stderr());
    for (const { info, processes } of started) {
      assert.deepEqual(stillAlive(processes), [], `${info.name}: processes survived the daemon's shutdown`);
      assert.deepEqual(markedProcesses(info.id), []);
    }
    const restarted = await startDaemon({ dataDir: first.dataDir, base: first.base });
    second = restarted;
    for (const { info } of started) {
      const got = await restarted.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.state, 'terminated');
      assert.equal(got.body.exit?.reason, 'shutdown', `${info.name}: ${JSON.stringify(got.body.exit)}`);
    }
    const stubborn = await restarted.request<SessionInfo>('GET', `/api/v1/sessions/${started[0]?.info.id ?? ''}`);
    assert.equal(stubborn.body.exit?.forced, true, 'the signal ignorer needed SIGKILL');
  } finally {
    await second?.stop();
    await first.stop();
    first.cleanup();
  }
});

test('after kill -9 of a daemon that owns its sessions, the next start kills what is left of the old trees, marks them lost, and keeps their output', async () => {
  const first = await startDaemon({ args: ['--session-host', 'daemon'] });
  let second: DaemonHandle | null = null;
  try {
    const started = await startTrees(first);
    const outputs = new Map<string, string>();
    for (const { info } of started) outputs.set(info.id, await readText(first, info.id));
    await first.crash();
    // The crash itself kills nothing that ignores hangups or left the terminal: the leftovers are really there.
    const leftovers = started.flatMap(({ processes }) => stillAlive(processes));
    assert.ok(leftovers.length >= 3, `expected the signal ignorer and both grandchildren to outlive the crash, got ${leftovers.length}`);

    const restarted = await startDaemon({ dataDir: first.dataDir, base: first.base });
    second = restarted;
    for (const { info, processes } of started) {
      assert.deepEqual(stillAlive(processes), [], `${info.name}: processes of the old tree survived recovery`);
      assert.deepEqual(markedProcesses(info.id), []);
      const got = await restarted.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`);
      assert.equal(got.body.state, 'terminated');
      assert.equal(got.body.exit?.reason, 'lost');
      assert.equal(await readText(restarted, info.id), outputs.get(info.id), `${info.name}: output before the crash is not readable`);
      const events = await restarted.request<{ events: { to: string }[] }>('GET', `/api/v1/sessions/${info.id}/events`);
      assert.equal(events.body.events.at(-1)?.to, 'terminated');
    }
  } finally {
    await second?.stop();
    await first.stop();
    first.cleanup();
  }
});

test('crash recovery never signals a recycled pid: a stored identity with the wrong start time leaves that process alone', async () => {
  const first = await startDaemon({ args: ['--session-host', 'daemon'] });
  let second: DaemonHandle | null = null;
  // An innocent process in its own group, standing in for an unrelated program that got the recycled pid.
  const innocent = spawn('/bin/sleep', ['1000'], { detached: true, stdio: 'ignore' });
  try {
    await once(innocent, 'spawn');
    const innocentId = identify(innocent.pid ?? -1);
    assert.ok(innocentId !== undefined);
    const info = await createSession(first, { kind: 'pipe', command: ['/bin/sh', '-c', 'echo up; exec sleep 1000'] });
    await waitForText(first, info.id, 'up');
    const tree = sessionTree(info);
    await first.crash();
    // Rewrite the stored runtime as if the session's pid had been recycled by the innocent process.
    const store = Store.open(first.dataDir);
    try {
      const stored = store.getSession(info.id);
      assert.ok(stored !== undefined);
      store.saveSession({
        info: stored.info,
        runtime: { pid: innocentId.pid, pidStartTime: innocentId.startTime + 1, pgid: innocentId.pid },
      });
    } finally {
      store.close();
    }
    const restarted = await startDaemon({ dataDir: first.dataDir, base: first.base });
    second = restarted;
    assert.equal(isAlive(innocentId), true, 'recovery signalled a process whose start time did not match');
    // The session's real processes carry its marker and are still found and ended.
    assert.deepEqual(stillAlive(tree), []);
    const got = await restarted.request<SessionInfo>('GET', `/api/v1/sessions/${info.id}`);
    assert.equal(got.body.exit?.reason, 'lost');
  } finally {
    innocent.kill('SIGKILL');
    await second?.stop();
    await first.stop();
    first.cleanup();
  }
});

test('a second daemon on the same data dir refuses to start, one on a taken port exits, and the running one is left alone', async () => {
  const first = await startDaemon();
  try {
    const live = await createSession(first, { kind: 'pipe', command: ['/bin/sleep', '1000'] });
    const infoBefore = readFileSync(join(first.dataDir, 'daemon.json'), 'utf8');
    const { file, args } = corralCommand(false);
    const second = spawnSync(file, [...args, 'serve', '--port', '0', '--data-dir', first.dataDir, '--root', first.root], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`Another Corral daemon is using the data dir .*\\(pid ${first.pid}, listening on ${first.url}\\)`));
    assert.equal(readFileSync(join(first.dataDir, 'daemon.json'), 'utf8'), infoBefore, 'daemon.json still names the first');
    // Another data dir but the first one's port: the start fails at listen, and must exit rather than linger.
    const otherDir = join(first.base, 'other-data');
    const port = new URL(first.url).port;
    const taken = spawnSync(file, [...args, 'serve', '--port', port, '--data-dir', otherDir, '--root', first.root], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(taken.status, 1, `exit status ${taken.status} (null: still running when the timeout killed it): ${taken.stderr}`);
    assert.match(taken.stderr, /EADDRINUSE/);
    const info = await first.request<SessionInfo>('GET', `/api/v1/sessions/${live.id}`);
    assert.equal(info.body.state, 'busy', 'the first daemon\'s session was not "recovered" as lost');
    const identity = live.pid === null ? undefined : identify(live.pid);
    assert.ok(identity !== undefined && isAlive(identity), 'its process still runs');
  } finally {
    await first.stop();
    first.cleanup();
  }
});
