// The seam between the engine and whatever actually runs a session's process: node-pty and child_process today,
// a holder process that survives a daemon restart or a remote node later. The engine only sees this interface.

import type { Event } from '../../common/lifecycle.js';
import type { SessionKind } from '../../protocol/sessionTypes.js';

export interface SpawnOptions {
  kind: SessionKind;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  /** The session this process runs for; backends that name things after it (a holder's socket) use it. */
  sessionId?: string;
}

export type OutputChannel = 'pty' | 'stdout' | 'stderr';

export interface ProcessStatus {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  /** Signal name when a signal ended it. */
  signal: string | null;
  /**
   * True when the backend lost the process instead of seeing it end (its holder died): code and signal are then
   * unknown (null), and the tree may still be running.
   */
  lost?: boolean;
  /**
   * True when the backend knows that nothing of the program's tree runs any more (a holder, as subreaper, had no
   * child left when it reaped the program): the engine then skips its own sweep of the tree.
   */
  treeGone?: boolean;
}

export interface OutputChunk {
  channel: OutputChannel;
  data: Buffer;
  /** Absolute offset of data[0] in its channel, counted from 0 for the session's life, when the backend numbers bytes. */
  offset?: number;
}

export interface BackendProcess {
  readonly pid: number;
  /** Every byte the process writes, in order. */
  readonly onData: Event<OutputChunk>;
  /** The root process has exited; output may still be draining (a grandchild can hold the terminal open). */
  readonly onProcessExit: Event<ProcessStatus>;
  /** Fired once, after onProcessExit AND after the last output byte was delivered through onData. */
  readonly onClosed: Event<ProcessStatus>;
  write(data: string | Buffer): void;
  /** Closes the process's stdin (pipe) — a PTY has no separate stdin to close. */
  endInput(): void;
  resize(cols: number, rows: number): void;
  /** Stop reading output (flow control). Reading resumes on resume(), and always once the process exits. */
  pause(): void;
  resume(): void;
  /**
   * Stops waiting for output the process tree no longer produces: used only after the whole tree is known dead
   * and the stream still has not closed. Remaining unread bytes, if any, are lost — the caller records that.
   */
  forceClose(): void;
  /**
   * Output up to `offset` on `channel` is safely recorded and need not be retained any longer. Only backends that
   * retain output for a later reattach implement it (HolderBackend, when constructed with manual acknowledgements).
   */
  acknowledge?(channel: OutputChannel, offset: number): void;
  /** Present when the process runs under a holder that outlives the daemon (HolderBackend). */
  readonly host?: HostControl;
}

/** Where a hosted process's holder is and how to prove to it that we are its daemon: persisted per session. */
export interface HostRecord {
  sessionId: string;
  kind: SessionKind;
  socketPath: string;
  /** hex; keep it as private as the auth token. */
  secret: string;
  holder: { pid: number; startTime: number };
  program: { pid: number; startTime: number };
}

/** Offsets of the next byte per holder channel (a pipe session has stdout and stderr, a terminal has pty). */
export type ChannelResume = Partial<Record<OutputChannel, number>>;

/** What a process run by a holder adds: the daemon can let go of it and find it again. */
export interface HostControl {
  readonly record: HostRecord;
  /** The engine has every byte and the exit: the holder may exit once the tree is gone. */
  release(): void;
  /** Lets go without ending the session (daemon stop); no event fires afterwards. */
  detach(): void;
  /** Signals every descendant of the holder, escapees that left the program's tree included. */
  signalTree(name: NodeJS.Signals): void;
  /** The program's stdin was closed (endInput), possibly by an earlier daemon: a reattached session keeps it closed. */
  readonly inputEnded: boolean;
}

export interface ProcessBackend {
  /**
   * Throws (or rejects with) a CorralError(SPAWN_FAILED) when the program cannot be started. Backends whose start
   * takes a round trip (a holder) answer a promise so the daemon's loop never waits for it; its events start only
   * after the promise settled, so subscribing right after the await misses nothing.
   */
  spawn(options: SpawnOptions): BackendProcess | Promise<BackendProcess>;
  /**
   * Backends whose processes outlive the daemon: attaches to the holder of `record` and continues each channel at
   * `resume`. Rejects when no holder answers or it is not the recorded one. Subscribe right after the await.
   */
  reattach?(record: HostRecord, resume: ChannelResume, signal?: AbortSignal): Promise<BackendProcess>;
}
