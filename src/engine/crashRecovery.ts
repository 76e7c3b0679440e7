// After a crash (kill -9 of the daemon) the store still calls some sessions live. Whatever is left of their trees
// is killed (pid + start time checked, the marker env for escaped descendants) and they end as `lost`. It runs once
// at start, before any new session exists, and only touches processes that carry a stale session's identity.

import type { ExitInfo } from '../protocol/sessionTypes.js';
import type { EventLog, SessionRecords } from './ports.js';
import type { EngineLogger } from './engineLogger.js';
import { terminateProcessTree } from './process/treeKiller.js';
import { SESSION_MARKER_ENV } from './Session.js';
import { isStoreRefusal } from './StoreWriter.js';

/** Events read to find a lost session's last sequence number: far more than any session records. */
const MAX_EVENTS_SCANNED = 100_000;

/** Ends every session the store still calls live; answers how many there were. */
export async function recoverAfterCrash(store: SessionRecords & EventLog, termGraceMs: number, log: EngineLogger): Promise<number> {
  const stale = store.listLiveSessions();
  for (const stored of stale) {
    const { pid, pidStartTime, pgid } = stored.runtime;
    if (pid !== null && pidStartTime !== null) {
      await terminateProcessTree({
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
    const at = new Date().toISOString();
    const exit: ExitInfo = { code: null, signal: null, reason: 'lost', forced: true, at };
    const lastSeq = store.listEvents(stored.info.id, { limit: MAX_EVENTS_SCANNED }).at(-1)?.seq ?? 0;
    try {
      store.batch(() => {
        store.appendEvent(stored.info.id, {
          seq: lastSeq + 1,
          from: stored.info.state,
          to: 'terminated',
          at,
          reason: 'lost: the daemon stopped without ending this session',
          source: 'process',
        });
        store.saveSession({
          info: { ...stored.info, state: 'terminated', stateReason: 'lost', stateSource: 'process', endedAt: at, exit },
          runtime: stored.runtime,
        });
      });
    } catch (error) {
      // A full disk or a locked store at start: the processes are ended all the same; the row still says live, so
      // the next start finds the session again and records it then (its processes are gone by then).
      if (!isStoreRefusal(error)) throw error;
      log('warn', 'session lost in a daemon crash; its processes were ended but the store refused to record it', {
        session: stored.info.id,
        code: error.code,
      });
      continue;
    }
    log('warn', 'session lost in a daemon crash; its leftover processes were ended', { session: stored.info.id });
  }
  return stale.length;
}
