// Proves PRODUCT §1.6 "nothing a session started survives its termination" end to end, through a real daemon:
// DELETE ends setsid and double-forked grandchildren and signal ignorers; a program that exits on its own takes
// its lingering grandchildren with it. Liveness is always checked by pid + start time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemonHarness.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { createSession, fixture, identitiesOfPids, markedProcesses, sessionTree, stillAlive, waitForText } from '../helpers/coreSupport.js';

/** Wait budget for a session to end on its own (the orphan sweep's hangup grace and SIGTERM grace included). */
const EXIT_WAIT_MS = 20_000;

test('DELETE kills a setsid grandchild, a double-forked grandchild and a signal-ignoring main process; forced=true', async () => {
  const daemon = await startDaemon();
  try {
    const script = `${fixture('setsid-grandchild.sh')} & ${fixture('double-fork.sh')} & exec ${fixture('ignore-signals.sh')}`;
    const info = await createSession(daemon, { command: ['/bin/sh', '-c', script] });
    const text = await waitForText(daemon, info.id, String.raw`ready[\s\S]*\d+\s*\n[\s\S]*\d+|\d+\s*\n[\s\S]*\d+\s*\n[\s\S]*ready|\d+[\s\S]*ready[\s\S]*\d+`);
    const grandchildren = identitiesOfPids(text);
    assert.equal(grandchildren.length, 2, `expected two grandchild pids in ${JSON.stringify(text)}`);
    const tree = sessionTree(info);
    for (const child of grandchildren) {
      assert.ok(tree.some((p) => p.pid === child.pid), `grandchild ${child.pid} is not found as part of the session`);
    }
    const all = [...tree, ...grandchildren];

    const reply = await daemon.request<SessionInfo>('DELETE', `/api/v1/sessions/${info.id}`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.state, 'terminated');
    assert.equal(reply.body.exit?.reason, 'killed');
    assert.equal(reply.body.exit.forced, true, 'ignore-signals.sh only dies by SIGKILL: forced must say so');
    assert.equal(reply.body.exit.signal, 'SIGKILL');
    assert.deepEqual(stillAlive(all), [], 'processes of the session survived DELETE');
    assert.deepEqual(markedProcesses(info.id), [], 'a process carrying the session marker survived DELETE');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('DELETE of a program that ends on SIGINT reports forced=false', async () => {
  const daemon = await startDaemon();
  try {
    const info = await createSession(daemon, { command: ['/bin/sh', '-c', 'echo up; exec sleep 1000'] });
    await waitForText(daemon, info.id, 'up');
    const tree = sessionTree(info);
    const reply = await daemon.request<SessionInfo>('DELETE', `/api/v1/sessions/${info.id}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.exit?.forced, false);
    assert.equal(reply.body.exit.signal, 'SIGINT');
    assert.deepEqual(stillAlive(tree), []);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

for (const kind of ['pty', 'pipe'] as const) {
  test(`a ${kind} session whose main process exits on its own leaves no lingering grandchild (setsid, double fork) by the time it is terminated`, async () => {
    const daemon = await startDaemon();
    try {
      // Both grandchildren detach from the terminal and from stdio, so the stream ends with the main process.
      // It exits (code 4) once told to, so the test reads the pids first.
      const script = `${fixture('double-fork.sh')} exit; setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!; read go; exit 4`;
      const info = await createSession(daemon, { kind, command: ['/bin/sh', '-c', script] });
      const text = await waitForText(daemon, info.id, String.raw`\d+\s*\n\s*\d+`);
      const grandchildren = identitiesOfPids(text);
      assert.equal(grandchildren.length, 2, JSON.stringify(text));
      const input = await daemon.request('POST', `/api/v1/sessions/${info.id}/input`, { data: 'go\n' });
      assert.equal(input.status, 200);
      const wait = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${info.id}/wait`, {
        exit: true,
        timeoutMs: EXIT_WAIT_MS,
      });
      assert.equal(wait.body.matched, true);
      assert.equal(wait.body.session.state, 'terminated');
      assert.equal(wait.body.session.exit?.code, 4);
      assert.equal(wait.body.session.exit.reason, 'exited');
      assert.deepEqual(stillAlive(grandchildren), [], 'a grandchild outlived its session');
      assert.deepEqual(markedProcesses(info.id), []);
    } finally {
      await daemon.stop();
      daemon.cleanup();
    }
  });
}
