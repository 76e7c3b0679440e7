// Where a session's cgroups are, for tests that check containment from outside: the daemon under test is our
// child, so its session cgroups sit under our own cgroup's `corral` directory in each hierarchy.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMounts, makeCgroupDir, processCgroups, readProcs, removeCgroupDir } from '../../src/engine/process/cgroups/cgroupFs.js';
import { CGROUP_ENTER_PATH, Containment } from '../../src/engine/process/cgroups/Containment.js';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonHandle } from './daemonHarness.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import type { ProcessIdentity } from '../../src/engine/process/ProcessIdentity.js';
import { readEnvironValue } from '../../src/engine/process/procfs.js';
import { createSession, fixture, identitiesOfPids, waitForText } from './coreSupport.js';

/**
 * What `--containment auto` picks on this machine (the daemon under test is our child, in our cgroups): tests of
 * cgroup behaviour skip, saying so, where the machine offers none (a container with a read-only /sys/fs/cgroup).
 */
export function autoContainment(): Containment {
  const containment = Containment.detect('auto');
  // Its probe made the shared corral directories in our cgroup: removed after the file's tests, when empty.
  after(() => void containment.release());
  return containment;
}

/** Whether a forced cgroup version works here. */
export function containmentWorks(mode: 'cgroup-v2' | 'cgroup-v1'): boolean {
  try {
    Containment.detect(mode).release();
    return true;
  } catch (error) {
    // detect() throws exactly when the forced mode is not usable here.
    if (error instanceof Error && error.message.includes('is not usable here')) return false;
    throw error;
  }
}

/** The directories of a session's cgroup that exist now, in every hierarchy (v1 and v2). */
export function sessionCgroupDirs(sessionId: string): string[] {
  const own = processCgroups('self');
  const dirs: string[] = [];
  for (const mount of cgroupMounts()) {
    const key = mount.version === 2 ? '' : mount.controllers.join(',');
    const path = own.get(key);
    if (path === undefined) continue;
    const dir = join(mount.mountPoint, path, 'corral', sessionId);
    if (existsSync(dir)) dirs.push(dir);
  }
  return dirs;
}

/** The session's pids cgroup directory (v1 pids hierarchy, or the v2 one), or undefined when it has none. */
export function sessionPidsDir(sessionId: string): string | undefined {
  return sessionCgroupDirs(sessionId).find((dir) => dir.includes('/pids/') || existsSync(join(dir, 'cgroup.kill')));
}

/** Processes in the session's cgroup now (any hierarchy). */
export function sessionCgroupMembers(sessionId: string): number[] {
  return [...new Set(sessionCgroupDirs(sessionId).flatMap((dir) => readProcs(join(dir, 'cgroup.procs'))))];
}

/** Budget for conditions polled under load (a fork bomb filling its cgroup, a session ending). */
export const WAIT_MS = 60_000;
export const TWO_PIDS = String.raw`^\d+\s*\n(?:[\s\S]*\n)?\d+\s*$`;

export async function pollUntil(what: string, done: () => boolean): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!done()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Starts the escapees in a session and returns them (alive, and invisible to the marker scan). */
export async function startEscapees(daemon: DaemonHandle, kind: 'pty' | 'pipe'): Promise<{ info: SessionInfo; escapees: ProcessIdentity[] }> {
  const info = await createSession(daemon, { kind, command: ['/bin/sh', '-c', `${fixture('escape-marker.sh')}; exec sleep 1000`] });
  const text = await waitForText(daemon, info.id, TWO_PIDS);
  const escapees = identitiesOfPids(text);
  assert.equal(escapees.length, 2, JSON.stringify(text));
  for (const escapee of escapees) {
    assert.equal(readEnvironValue(escapee.pid, 'CORRAL_SESSION_ID'), undefined, `escapee ${escapee.pid} carries the marker: the test proves nothing`);
  }
  return { info, escapees };
}

export async function deleteSession(daemon: DaemonHandle, id: string): Promise<SessionInfo> {
  const reply = await daemon.request<SessionInfo>('DELETE', `/api/v1/sessions/${id}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  assert.equal(reply.body.state, 'terminated');
  return reply.body;
}

/** The hierarchies a daemon's sessions use (Containment.ts): the cgroup2 one, and the v1 ones of these controllers. */
const SESSION_CONTROLLERS = ['pids', 'freezer', 'memory', 'cpu', 'cpuacct'];

/**
 * A cgroup of this test's own below ours in every hierarchy a daemon uses, to start a daemon in (`prefix` for
 * startDaemon): its shared `corral` directories are then its alone, not shared with the other daemons that run in our
 * cgroup (other tests, other checkouts on this machine), so a test can tell whether that daemon removed them.
 */
export function privateDaemonCgroup(name: string): { prefix: string[]; sessionsDirs: () => string[]; remove: () => Promise<void> } {
  const own = processCgroups('self');
  const dirs: string[] = [];
  for (const mount of cgroupMounts()) {
    if (mount.version === 1 && !mount.controllers.some((controller) => SESSION_CONTROLLERS.includes(controller))) continue;
    const path = own.get(mount.version === 2 ? '' : mount.controllers.join(','));
    if (path === undefined) continue;
    const dir = join(mount.mountPoint, path, `${name}-${process.pid}`);
    if (dirs.includes(dir)) continue;
    makeCgroupDir(dir);
    dirs.push(dir);
  }
  return {
    prefix: [CGROUP_ENTER_PATH, ...dirs.map((dir) => join(dir, 'cgroup.procs')), '--'],
    sessionsDirs: () => dirs.map((dir) => join(dir, 'corral')).filter((dir) => existsSync(dir)),
    // Once its daemon and holders are gone (a holder leaves a moment after its session's end).
    remove: () => pollUntil('the private cgroups are empty and removed', () => dirs.every((dir) => removeCgroupDir(join(dir, 'corral')) && removeCgroupDir(dir))),
  };
}
