// Helpers shared by the core-promise tests: REST shortcuts against a test daemon and process checks by identity.
// Must never signal a process by pid alone: every liveness check goes through pid + start time.

import assert from 'node:assert/strict';
import type { DaemonHandle } from './daemonHarness.js';
import type { SessionInfo, OutputRead } from '../../src/protocol/sessionTypes.js';
import { identify, isAlive, type ProcessIdentity } from '../../src/engine/process/ProcessIdentity.js';
import { findSessionProcesses, identitiesOf, SESSION_MARKER_KEY } from '../../src/engine/process/processTree.js';
import { childPids, readEnvironValue, readProcStat } from '../../src/engine/process/procfs.js';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { FIXTURES, fixture } from './fixtures.js';

/** What the REST shortcuts need of a test daemon: a spawned one (daemonHarness) or one in this process (inProcessDaemon). */
export type RestDaemon = Pick<DaemonHandle, 'request'>;

/** Long enough for a fixture to print its first line on a loaded 2-core machine. */
export const PRINT_TIMEOUT_MS = 20_000;

export async function createSession(daemon: RestDaemon, body: Record<string, unknown>): Promise<SessionInfo> {
  const reply = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', body);
  assert.equal(reply.status, 201, `create answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Waits until the session's text output (from offset 0) matches `pattern`; answers the whole text. */
export async function waitForText(daemon: RestDaemon, id: string, pattern: string): Promise<string> {
  const wait = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, {
    pattern,
    since: 0,
    timeoutMs: PRINT_TIMEOUT_MS,
  });
  assert.equal(wait.status, 200, JSON.stringify(wait.body));
  assert.equal(wait.body.matched, true, `output never matched /${pattern}/`);
  return readText(daemon, id);
}

export async function readText(daemon: RestDaemon, id: string, since = 0): Promise<string> {
  const out = await daemon.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?format=text&since=${since}`);
  assert.equal(out.status, 200, JSON.stringify(out.body));
  return out.body.data;
}

export async function listIds(daemon: RestDaemon): Promise<string[]> {
  const list = await daemon.request<{ sessions: SessionInfo[] }>('GET', '/api/v1/sessions?limit=500');
  assert.equal(list.status, 200);
  return list.body.sessions.map((s) => s.id).sort();
}

/** Identities of the pids a fixture printed, one per line (the identity is taken now, while they live). */
export function identitiesOfPids(text: string): ProcessIdentity[] {
  const pids = [...text.matchAll(/^(\d+)\s*$/gm)].map((m) => Number(m[1]));
  return pids.map((pid) => {
    const id = identify(pid);
    assert.ok(id !== undefined, `printed pid ${pid} is not running`);
    return id;
  });
}

/** Every live process of a session right now: its root's tree plus everything carrying its marker env. */
export function sessionTree(info: SessionInfo): ProcessIdentity[] {
  assert.ok(info.pid !== null);
  const root = identify(info.pid);
  assert.ok(root !== undefined, `session ${info.id} root ${info.pid} is gone`);
  return identitiesOf(findSessionProcesses({ root, marker: { key: SESSION_MARKER_KEY, value: info.id } }));
}

/** Identities still alive (same pid and start time, not a zombie). */
export function stillAlive(ids: readonly ProcessIdentity[]): ProcessIdentity[] {
  return ids.filter((id) => isAlive(id));
}

/** Processes that carry a session's marker env, alive now (finds leftovers even after their root is gone). */
export function markedProcesses(sessionId: string): ProcessIdentity[] {
  // A root identity that cannot match anything: only the marker seeds the scan.
  return identitiesOf(
    findSessionProcesses({ root: { pid: 0, startTime: -1 }, marker: { key: SESSION_MARKER_KEY, value: sessionId } }),
  );
}

/** A live process under a daemon that belongs to no live session: a holder, or a program (or anything it started). */
export interface StrayProcess {
  pid: number;
  comm: string;
  kind: 'holder' | 'program';
  /** The session it was started for: a holder's argv[1], a program's marker env. */
  session: string | undefined;
}

/**
 * Holders and session processes in `daemonPid`'s tree that belong to none of `liveIds` (issue 15: a refused create
 * left its holder and program running). Holders stay the daemon's children and are named by their argv; programs
 * carry their session's marker env. Zombies are not counted: they are gone, only not yet reaped.
 */
export function strayProcesses(daemonPid: number, liveIds: readonly string[]): StrayProcess[] {
  const live = new Set(liveIds);
  const strays: StrayProcess[] = [];
  const queue = childPids(daemonPid);
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    queue.push(...childPids(pid));
    const stat = readProcStat(pid);
    if (stat === undefined || stat.state === 'Z') continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone since the listing
    }
    if (basename(argv[0] ?? '') === 'corral-holder') {
      if (!live.has(argv[1] ?? '')) strays.push({ pid, comm: stat.comm, kind: 'holder', session: argv[1] });
      continue;
    }
    const session = readEnvironValue(pid, SESSION_MARKER_KEY);
    if (session !== undefined && !live.has(session)) strays.push({ pid, comm: stat.comm, kind: 'program', session });
  }
  return strays;
}

/** Polls until `check` passes or `ms` is up (then its last failure is the test's). */
export async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(250);
    }
  }
}
