// On start, takes over every session the store still calls live (issue 14): a session whose holder answers as
// recorded continues with the same id, its state history (event seq continues), its output from the journals' ends
// and its screen rebuilt from the journal tail; any other ends `lost` with its leftovers killed. It runs once, before
// the daemon accepts requests, and never starts a process.

import { performance } from 'node:perf_hooks';
import type { ChannelResume } from './backends/ProcessBackend.js';
import type { SessionBackends } from './backends/chooseBackends.js';
import { endLostSession, type LostSession } from './crashRecovery.js';
import type { EngineConfig } from './EngineConfig.js';
import type { EngineLogger } from './engineLogger.js';
import type { Containment } from './process/cgroups/Containment.js';
import type { OutputStream } from './output/OutputStream.js';
import type { StateEvent } from '../protocol/sessionTypes.js';
import type { EngineStore, StoredHost, StoredSession } from './ports.js';
import type { ProfileRegistry } from './profiles/ProfileRegistry.js';
import type { RestoredState, Session, SessionSpec } from './Session.js';
import { pipeCheckpointFile, reopenSessionJournal, streamOverJournal, type OutputChannel } from './sessionFiles.js';
import { PipeCheckpoint, planPipeResume, type PipeResume } from './output/PipeCheckpoint.js';
import { fromStoredSpec } from './sessionSpec.js';

/**
 * Output replayed into a rebuilt screen and the state detector: a few full screens of a busy TUI (Claude redraws its
 * whole input area per keystroke), small enough that 200 reattaches parse it in well under a second.
 */
const REPLAY_TAIL_BYTES = 64 * 1024;

export interface ReattachContext {
  store: EngineStore;
  config: EngineConfig;
  backends: SessionBackends;
  profiles: ProfileRegistry;
  log: EngineLogger;
  /** Finds the cgroups of sessions that end lost, so what is in them ends too. */
  containment: Containment;
  /** Builds a session over the given streams, in the state it had. */
  build(spec: SessionSpec, streams: (channel: OutputChannel) => OutputStream, restored: RestoredState): Session;
  /** Registers a reattached session like a created one (events, persistence, agents, its task worktree). */
  adopt(session: Session, worktree: StoredHost['spec']['worktree']): void;
  /** Announces a session that could not be taken over and ended `lost` (as the engine's state and exit events). */
  lost(ended: LostSession): void;
}

export interface ReattachOutcome {
  reattached: number;
  lost: number;
  ms: number;
}

export async function reattachSessions(context: ReattachContext): Promise<ReattachOutcome> {
  const started = performance.now();
  const stale = context.store.listLiveSessions();
  // Three reads for all of them, not three per session: the holders, and each session's newest event.
  const hosts = new Map(context.store.listHosts().map((host) => [host.sessionId, host]));
  const lastEvents = context.store.lastEventsOfLiveSessions();
  const results = await Promise.all(stale.map((stored) => reattachOne(context, stored, hosts.get(stored.info.id), lastEvents.get(stored.info.id))));
  const reattached = results.filter(Boolean).length;
  return { reattached, lost: results.length - reattached, ms: Math.round(performance.now() - started) };
}

async function reattachOne(context: ReattachContext, stored: StoredSession, host: StoredHost | undefined, last: StateEvent | undefined): Promise<boolean> {
  const { store, config, backends, log } = context;
  const id = stored.info.id;
  const backend = backends[stored.info.kind];
  if (host === undefined || backend.reattach === undefined) {
    announce(context, await endLostSession(store, stored, config.graces.termMs, log, 'the daemon stopped and nothing kept this session running', context.containment));
    return false;
  }
  let spec: SessionSpec;
  try {
    spec = fromStoredSpec(id, host.spec, context.profiles, { cols: stored.info.cols, rows: stored.info.rows });
    // A rename after the start is in the session row, not in the spec its holder was started with.
    spec.name = stored.info.name;
  } catch (error) {
    announce(context, await endLostSession(store, stored, config.graces.termMs, log, `cannot resume it: ${(error as Error).message}`, context.containment));
    return false;
  }
  const { streams, plan } = openStreams(config, id, stored.info.kind === 'pipe');
  const resume: ChannelResume = plan === null ? { pty: streams.combined.endOffset } : plan.resume;
  let proc;
  try {
    proc = await backend.reattach(recordOf(host), resume);
  } catch (error) {
    await Promise.all(Object.values(streams).map((stream) => stream?.close()));
    announce(context, await endLostSession(store, stored, config.graces.termMs, log, `its holder is gone (${(error as Error).message})`, context.containment));
    return false;
  }
  // From here to session.reattach nothing awaits: the holder's events start on the next macrotask.
  // The state is the last event's: events are written the moment a state changes, the session row only mirrors it
  // a tick later, so a daemon killed in between left a row one state behind (a dialog reported, the row still busy).
  const seq = last?.seq ?? 0;
  const stdoutBytes = streams.stdout?.endOffset ?? 0;
  const stderrBytes = streams.stderr?.endOffset ?? 0;
  const session = context.build(spec, (channel) => pick(streams, channel), {
    createdAt: stored.info.createdAt,
    startedAt: stored.info.startedAt,
    state: last?.to ?? stored.info.state,
    reason: last?.reason ?? stored.info.stateReason,
    source: last?.source ?? stored.info.stateSource,
    seq,
    cols: stored.info.cols,
    rows: stored.info.rows,
    stdoutBytes,
    stderrBytes,
    lastActivityAt: stored.info.lastActivityAt,
  });
  const end = streams.combined.endOffset;
  const tail = streams.combined.read(Math.max(0, end - REPLAY_TAIL_BYTES), REPLAY_TAIL_BYTES).data;
  session.reattach(proc, tail, plan?.skip);
  context.adopt(session, host.spec.worktree);
  if ((last?.to ?? stored.info.state) === 'terminating') void session.terminate('killed', 'api');
  // No line per session: the start line reports how many were reattached (and each lost one has its warning);
  // 200 log lines cost a tenth of the whole reattach.
  return true;
}

interface Streams {
  combined: OutputStream;
  stdout: OutputStream | null;
  stderr: OutputStream | null;
}

/**
 * A pty session's one stream continues from its journal's end. A pipe session's three journals may have been cut
 * apart by the crash: its checkpoint says where combined continues and from where the holder resends each channel.
 */
function openStreams(config: EngineConfig, id: string, pipe: boolean): { streams: Streams; plan: PipeResume | null } {
  const combined = reopenSessionJournal(config, id, 'combined');
  if (!pipe) return { streams: { combined: streamOverJournal(config, combined), stdout: null, stderr: null }, plan: null };
  const stdout = reopenSessionJournal(config, id, 'stdout');
  const stderr = reopenSessionJournal(config, id, 'stderr');
  const ends = { combined: combined.endOffset, stdout: stdout.endOffset, stderr: stderr.endOffset };
  const plan = planPipeResume(ends, PipeCheckpoint.read(pipeCheckpointFile(config.dataDir, id)));
  if (plan.cutCombinedTo !== null) combined.truncate(plan.cutCombinedTo);
  return {
    streams: { combined: streamOverJournal(config, combined), stdout: streamOverJournal(config, stdout), stderr: streamOverJournal(config, stderr) },
    plan,
  };
}

function pick(streams: Streams, channel: OutputChannel): OutputStream {
  const stream = streams[channel];
  // Session asks for stdout/stderr only for pipe sessions, which have them.
  if (stream === null) throw new Error(`no ${channel} stream for this session`);
  return stream;
}

function recordOf(host: StoredHost): StoredHost['holder'] & { sessionId: string } {
  return { sessionId: host.sessionId, ...host.holder };
}

/** Reports a session ended `lost` to the engine's listeners, once the store has it (nothing when it refused). */
function announce(context: ReattachContext, ended: LostSession | null): void {
  if (ended !== null) context.lost(ended);
}
