// Issue 16: escapees that drop the session marker (`setsid env -i`, a double fork with CORRAL_SESSION_ID stripped)
// end with their session, under the holder backend and the direct one (`--session-host daemon`: the native pty and
// child_process backends), in pty and pipe sessions, by DELETE or when the program exits on its own. Real daemon,
// real cgroups (on the machines here the v1 hierarchies, which `auto` picks; the tests follow whatever `auto` picks
// and skip where there is none); no session cgroup is left behind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../helpers/daemonHarness.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { createSession, fixture, identitiesOfPids, stillAlive, waitForText } from '../helpers/coreSupport.js';
import { autoContainment, deleteSession, sessionCgroupDirs, sessionCgroupMembers, startEscapees, TWO_PIDS, WAIT_MS } from '../helpers/cgroupSupport.js';

const AUTO = autoContainment();
const skip = AUTO.mode === 'sweep' ? `no usable cgroup hierarchy here (${AUTO.detail})` : false;

for (const host of ['holder', 'daemon'] as const) {
  for (const kind of ['pty', 'pipe'] as const) {
    test(`${host} backend, ${kind}: setsid env -i and marker-stripped double-fork escapees end with DELETE; the cgroup is removed`, { skip }, async () => {
      const daemon = await startDaemon({ args: ['--session-host', host] });
      try {
        const { info, escapees } = await startEscapees(daemon, kind);
        assert.equal(info.containment, AUTO.mode, 'the session has the containment auto picks on this machine');
        const members = sessionCgroupMembers(info.id);
        for (const escapee of escapees) assert.ok(members.includes(escapee.pid), `escapee ${escapee.pid} is not in the session's cgroup`);
        const ended = await deleteSession(daemon, info.id);
        assert.equal(ended.containment, AUTO.mode);
        assert.deepEqual(stillAlive(escapees), [], 'an escapee outlived its session');
        assert.deepEqual(sessionCgroupDirs(info.id), [], 'the session cgroup was left behind');
      } finally {
        await daemon.stop();
        daemon.cleanup();
      }
    });
  }
}

test('escapees also end when the program exits on its own (the orphan sweep kills the cgroup)', { skip }, async () => {
  const daemon = await startDaemon();
  try {
    const info = await createSession(daemon, { kind: 'pipe', command: ['/bin/sh', '-c', `${fixture('escape-marker.sh')}; read go; exit 3`] });
    const escapees = identitiesOfPids(await waitForText(daemon, info.id, TWO_PIDS));
    assert.equal((await daemon.request('POST', `/api/v1/sessions/${info.id}/input`, { data: 'go\n' })).status, 200);
    const wait = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${info.id}/wait`, { exit: true, timeoutMs: WAIT_MS });
    assert.equal(wait.body.matched, true);
    assert.equal(wait.body.session.exit?.code, 3);
    assert.deepEqual(stillAlive(escapees), []);
    assert.deepEqual(sessionCgroupDirs(info.id), []);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

