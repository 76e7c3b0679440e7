// A session the store still calls live whose process cannot be taken over again (no holder, its holder gone or not
// the recorded one, a daemon-owned session after kill -9): whatever is left of its tree is killed (pid + start
// time checked, the marker env for escaped descendants, and its cgroup when it has one) and it ends as `lost`. It only touches processes that
// carry the stale session's identity.

import type { ExitInfo, SessionInfo, StateEvent } from '../protocol/sessionTypes.js';
import type { EventLog, SessionHosts, SessionRecords, StoredSession } from './ports.js';
import type { EngineLogger } from './engineLogger.js';
import { signalProcess } from './process/signals.js';
import { terminateProcessTree } from './process/treeKiller.js';
import type { Containment } from './process/cgroups/Containment.js';
import { SESSION_MARKER_ENV } from './Session.js';
import { isStoreRefusal } from './StoreWriter.js';

/** What a lost session ended as: its last record, the state change and the exit (for the engine's events). */
export interface LostSession {
  info: SessionInfo;
  event: StateEvent;
  exit: ExitInfo;
}

/**
 * Ends one stale session as `lost`, killing what is left of its tree (and of its holder, when one still runs).
 * Answers what it recorded, or null when the store refused (the next start finds the session again).
 */
export async function endLostSession(
  store: SessionRecords & EventLog & SessionHosts,
  stored: StoredSession,
  termGraceMs: number,
  log: EngineLogger,
  why: string,
  containment?: Containment,
): Promise<LostSession | null> {
  const { pid, pidStartTime, pgid } = stored.runtime;
  // Its cgroup, when the old daemon made one: everything in it is the session's, marker or not.
  const cgroup = containment?.find(stored.info.id) ?? null;
  if (pid !== null && pidStartTime !== null) {
    await terminateProcessTree({
      ...(cgroup === null ? {} : { cgroup }),
      root: { pid, startTime: pidStartTime },
      pgid,
      marker: { key: SESSION_MARKER_ENV, value: stored.info.id },
      // The old daemon's sessions were re-parented away from us when it died.
      scope: 'system',
      politeGraceMs: 0,
      interruptGraceMs: 0,
      termGraceMs,
    });
  }
  // A holder that answered wrongly (or not at all) but still runs as recorded: it is ours, and now purposeless.
  const holder = store.getHost(stored.info.id)?.holder.holder;
  if (holder !== undefined) signalProcess(holder, 'SIGKILL');
  if (cgroup !== null) {
    await cgroup.kill();
    if (!(await cgroup.remove())) log('warn', 'a lost session cgroup still has a process; left in place', { session: stored.info.id });
  }
  const at = new Date().toISOString();
  const exit: ExitInfo = { code: null, signal: null, reason: 'lost', forced: true, at };
  const lastSeq = store.lastEvent(stored.info.id)?.seq ?? 0;
  const event: StateEvent = { seq: lastSeq + 1, from: stored.info.state, to: 'terminated', at, reason: `lost: ${why}`, source: 'process' };
  const info: SessionInfo = { ...stored.info, state: 'terminated', stateReason: 'lost', stateSource: 'process', endedAt: at, exit };
  try {
    store.batch(() => {
      store.deleteHost(stored.info.id);
      store.appendEvent(stored.info.id, event);
      store.saveSession({ info, runtime: stored.runtime });
    });
  } catch (error) {
    // A full disk or a locked store at start: the processes are ended all the same; the row still says live, so
    // the next start finds the session again and records it then (its processes are gone by then).
    if (!isStoreRefusal(error)) throw error;
    log('warn', 'session lost; its processes were ended but the store refused to record it', { session: stored.info.id, why, code: error.code });
    return null;
  }
  log('warn', 'session lost; its leftover processes were ended', { session: stored.info.id, why });
  return { info, event, exit };
}
