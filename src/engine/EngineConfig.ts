// Engine settings with their defaults. Every bound says why it is that number.

import { DEFAULT_BWRAP_PATH } from './sandbox/sandboxSupport.js';

export interface TerminationGraces {
  /** After the profile's polite exit (e.g. Claude's /exit): time to leave on its own. */
  politeMs: number;
  /** After SIGINT to the group. */
  interruptMs: number;
  /** After SIGTERM to the group and tree, before SIGKILL. */
  termMs: number;
}

/**
 * What runs `pty` sessions: Corral's own spawner (posix_spawn + pidfd, the default: its cost does not grow with the
 * daemon's heap) or node-pty (fork + a waiter thread per session; kept as the reference implementation).
 */
export type PtyBackendName = 'native' | 'node-pty';

/**
 * Who owns sessions' processes: `holder` (one corral-holder per session, native/holder.c: sessions outlive the
 * daemon, a restart reattaches them) or `daemon` (the daemon's own children: they end with it).
 */
export type SessionHostName = 'holder' | 'daemon';

/**
 * What holds each session's process tree (src/engine/process/cgroups/Containment.ts): `auto` (a cgroup per session
 * on cgroup v2 or v1, whichever this machine offers, else only the sweep), a forced cgroup version (the daemon
 * refuses to start when it does not work), or `sweep` (no cgroups: the pid tree and environment marker only).
 */
export type ContainmentChoice = 'auto' | 'cgroup-v2' | 'cgroup-v1' | 'sweep';

export interface EngineConfig {
  dataDir: string;
  /** Workspace roots; session cwds must resolve under one of them. */
  roots: string[];
  /** Extra profile directories (user profiles), loaded after the built-ins. */
  profileDirs: string[];
  /** Max sessions not yet terminated; creating one more answers SESSION_LIMIT (HTTP 429). */
  maxLiveSessions: number;
  /** In-memory output ring per stream. */
  ringBytes: number;
  /** On-disk journal cap per stream (newest bytes kept). */
  journalCapBytes: number;
  /** Ended sessions kept in memory (the rest stay in the store). */
  endedInMemory: number;
  /** An unread headless screen is dropped after this long and rebuilt from the output on the next read (default 30 s). */
  screenDropAfterMs?: number;
  graces: TerminationGraces;
  /** Refused-by-default env names the operator allows (e.g. LD_LIBRARY_PATH). */
  allowEnv: string[];
  /** Resource-usage sampling period. */
  usageSampleMs: number;
  /** Ended sessions older than this are removed from the store (null: keep forever). */
  retentionMs: number | null;
  ptyBackend: PtyBackendName;
  /** `holder` runs pty and pipe sessions under holders (ptyBackend then does not apply). */
  sessionHost: SessionHostName;
  containment: ContainmentChoice;
  /** Session sandboxes: the bubblewrap binary (a missing one makes sandboxed sessions refused, SANDBOX_UNAVAILABLE). */
  sandbox: { bwrap: string };
}

/** Hundreds of sessions must work on a 2-core machine; past this a runaway orchestrator is more likely than need. */
const DEFAULT_MAX_LIVE_SESSIONS = 256;
/** 1 MiB per stream: a few full screens of history for fast reads; 256 sessions cost at most ~256 MiB. */
const DEFAULT_RING_BYTES = 1024 * 1024;
/** 64 MiB of newest output per stream on disk: enough for long builds, bounded against floods. */
const DEFAULT_JOURNAL_CAP_BYTES = 64 * 1024 * 1024;
/** PRODUCT §1.6: the last 100 ended sessions stay in memory. */
const DEFAULT_ENDED_IN_MEMORY = 100;

export function defaultEngineConfig(dataDir: string, roots: string[]): EngineConfig {
  return {
    dataDir,
    roots,
    profileDirs: [],
    maxLiveSessions: DEFAULT_MAX_LIVE_SESSIONS,
    ringBytes: DEFAULT_RING_BYTES,
    journalCapBytes: DEFAULT_JOURNAL_CAP_BYTES,
    endedInMemory: DEFAULT_ENDED_IN_MEMORY,
    graces: { politeMs: 2000, interruptMs: 1000, termMs: 2000 },
    allowEnv: [],
    usageSampleMs: 5000,
    retentionMs: null,
    ptyBackend: 'native',
    // In-process engines (tests, embedders) keep their children; `corral serve` defaults to holders.
    sessionHost: 'daemon',
    containment: 'auto',
    sandbox: { bwrap: DEFAULT_BWRAP_PATH },
  };
}
