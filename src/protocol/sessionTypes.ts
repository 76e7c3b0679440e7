// Shared shapes of sessions, states, events and exits: what every face sends and receives.
// Imports neither Node nor DOM so the CLI and the web dashboard can use it too.

export const SESSION_STATES = [
  'initializing',
  'authenticating',
  'ready',
  'busy',
  'idle',
  'waiting_input',
  'error',
  'terminating',
  'terminated',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** What every face shows in place of a secret: env values marked secret, auth tokens. */
export const REDACTED = '[redacted]';

/** How a state change was known (PRODUCT §1.1). */
export const STATE_SOURCES = ['process', 'shell-integration', 'hook', 'screen', 'timer', 'api'] as const;
export type StateSource = (typeof STATE_SOURCES)[number];

export const SESSION_KINDS = ['pty', 'pipe'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

export const EXIT_REASONS = ['exited', 'killed', 'timeout', 'idle_timeout', 'shutdown', 'lost', 'spawn_failed'] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

export interface ExitInfo {
  /** Exit code when the process exited on its own; null when a signal ended it or it never ran. */
  code: number | null;
  /** Signal name (e.g. "SIGKILL") when a signal ended it. */
  signal: string | null;
  reason: ExitReason;
  /** True when Corral had to escalate past the polite steps (SIGTERM/SIGKILL) to end it. */
  forced: boolean;
  at: string;
}

export interface StateEvent {
  seq: number;
  from: SessionState | null;
  to: SessionState;
  at: string;
  reason: string;
  source: StateSource;
}

export interface OutputCounters {
  /** Total bytes ever produced (the next offset). */
  totalBytes: number;
  /** Bytes of stdout and stderr for pipe sessions. */
  stdoutBytes: number;
  stderrBytes: number;
  /** Oldest offset still readable (memory or disk). */
  firstAvailableOffset: number;
}

export interface ResourceUsage {
  cpuMs: number;
  rssBytes: number;
  processCount: number;
  sampledAt: string;
  /** Where the figures come from: the session's cgroup (whole tree, reaped children's CPU included) or /proc. */
  source?: 'cgroup' | 'proc';
}

/**
 * What holds a session's process tree: its own cgroup (v2 or v1; ending the session kills the whole cgroup, and
 * limits apply to the tree), or only the daemon's descendant sweep (`sweep`: pid tree and environment marker).
 */
export type ContainmentMode = 'cgroup-v2' | 'cgroup-v1' | 'sweep';

export interface SessionInfo {
  id: string;
  name: string | null;
  taskId: string | null;
  profile: string;
  kind: SessionKind;
  command: string[];
  cwd: string;
  /** Environment the caller set explicitly, secrets redacted. */
  env: Record<string, string>;
  cols: number;
  rows: number;
  state: SessionState;
  stateReason: string;
  stateSource: StateSource;
  pid: number | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  lastActivityAt: string;
  exit: ExitInfo | null;
  output: OutputCounters;
  usage: ResourceUsage | null;
  labels: Record<string, string>;
  limits: SessionLimits;
  /** What holds the session's process tree (absent in records of older daemons). */
  containment?: ContainmentMode;
  /** Whether this session's record and output reached the disk (absent in records of older daemons). */
  storage?: SessionStorage;
  /** The sandbox the session runs in, or why none (absent in records of older daemons). */
  sandbox?: SessionSandbox;
  /** Whether the session holds a CORRAL_TOKEN scoped to itself and its task (absent in records of older daemons). */
  scopedToken?: boolean;
  /** Agent sessions only (profiles with `stateDetection: "agent"`): the CLI's version and the dialog on screen. */
  agent?: AgentSessionInfo;
  /** A fleet (`corral serve --cluster`): the node the session runs on. Absent on a single daemon. */
  node?: string;
  /**
   * A fleet: false when the session's node is not answering (its lease expired); `state` is then the last one known
   * and calls that need the node answer 503 NODE_UNREACHABLE. Absent when the node answered.
   */
  reachable?: boolean;
}

/** What an agent session knows about its CLI beyond the state. */
export interface AgentSessionInfo {
  /** The CLI's version as it reports it (`--version`); null until read (a moment after start) or when unreadable. */
  version: string | null;
  /** Whether `version` is one the profile was verified against; null while the version is unknown. */
  versionVerified: boolean | null;
  /** The versions the profile lists as verified (a session with another one may drift: watch for profile_mismatch). */
  verifiedVersions: string[];
  /** The dialog on screen now (trust, permission, login, retry, …), null when none. */
  dialog: AgentDialogInfo | null;
  /** The tool a pending permission is about (hook or screen), e.g. `Bash`. */
  pendingTool: string | null;
  /** The last turn error recorded (API error, failed turn), e.g. `API Error: 500 …`. */
  lastError: string | null;
}

/** A dialog as the profile reads it off the screen: answer it with POST …/answer {choice: number or label}. */
export interface AgentDialogInfo {
  /** The profile's dialog id, e.g. `permission`, `trust`, `retry`. */
  id: string;
  /** The state it puts the session in. */
  state: 'waiting_input' | 'authenticating';
  /** Its question line as on screen, e.g. `Would you like to run the following command?`. */
  question: string;
  options: AgentDialogOption[];
  /** Whether it has been on screen long enough to take keys (the state is reported from then on). */
  takesKeys: boolean;
}

export interface AgentDialogOption {
  /** 0-based position. */
  index: number;
  label: string;
  /** The number printed before it, when the CLI numbers its options. */
  number: number | null;
  /** The cursor is on it (Enter picks it). */
  selected: boolean;
}

/**
 * The effective sandbox of a session. `bwrap`: Linux namespaces through bubblewrap; only the listed paths exist
 * inside (the system read-only, `writable` read-write), processes of other sessions and the daemon are not visible
 * (own pid namespace), and `network` is the host's (`full`) or a namespace with loopback only (`none`).
 * `none`: no sandbox, `opted-out` when the caller or template asked for `sandbox: "none"`, `not-requested` when
 * neither the profile nor the request asked for one.
 */
export type SessionSandbox =
  | { mode: 'bwrap'; network: 'full' | 'none'; readOnly: string[]; writable: string[] }
  | { mode: 'none'; reason: 'opted-out' | 'not-requested' };

/** Why the store is not taking writes: the disk is full (507) or another process holds its lock (503). */
export interface StorageProblem {
  code: 'STORAGE_FULL' | 'STORE_BUSY';
  message: string;
  since: string;
}

/**
 * Nothing is dropped silently: `saved` is false while some of this session's records wait in memory for the store
 * (retried until it takes them), and every range of output the journal could not write is listed in `journalGaps`.
 */
export interface SessionStorage {
  saved: boolean;
  /** The store's refusal while `saved` is false. */
  problem: StorageProblem | null;
  journalGaps: JournalGap[];
}

/**
 * Output bytes [start, end) of one stream that are not on disk because writing them failed (a full disk). While
 * still in the in-memory ring they stay readable; older than that, a read across them reports them as its `gap`.
 */
export interface JournalGap {
  stream: 'combined' | 'stdout' | 'stderr';
  start: number;
  /** Null while the journal is still failing (the gap grows with the output). */
  end: number | null;
  /** The error that opened the gap (ENOSPC, EDQUOT, EIO). */
  code: string;
  at: string;
}

export interface SessionLimits {
  /** Max lifetime in ms (reason `timeout` when reached). */
  maxLifetimeMs: number | null;
  /** No output and no input for this long ends the session (reason `idle_timeout`). */
  idleTimeoutMs: number | null;
  /** rlimits applied to the program (and inherited by its children). */
  openFiles?: number | null;
  processes?: number | null;
  cpuSeconds?: number | null;
  memoryBytes?: number | null;
  /** CPU weight of the session's tree against other sessions (cgroup cpu.weight, 1..10000, default 100). */
  cpuWeight?: number | null;
}

/** A read of the output stream by cursor (PRODUCT §1.2, §5). */
export interface OutputRead {
  data: string;
  encoding: 'base64' | 'utf8';
  offset: number;
  nextOffset: number;
  firstAvailableOffset: number;
  /** Bytes lost (evicted) before `offset`; 0 when none. */
  gap: number;
}

export interface ScreenSnapshot {
  cols: number;
  rows: number;
  lines: string[];
  cursor: { x: number; y: number };
  title: string;
  alternateScreen: boolean;
}

// ---- line view and search of a session's output (`/lines`, `/search`) ------------------------------------

export interface LineEntry {
  /** Offset of the line's first raw byte. */
  offset: number;
  text: string;
}

export interface LinesResult {
  lines: LineEntry[];
  offset: number;
  /** Where the next read starts: after the last complete line scanned. */
  nextOffset: number;
  gap: number;
  /** Lines scanned (before the filter). */
  scanned: number;
}

export interface SearchMatch {
  /** Byte offset of the match in the raw stream. */
  offset: number;
  /** Byte offset of the start of its line. */
  lineOffset: number;
  /** The matched text (text view). */
  match: string;
  /** The line around the match (text view, cut to a few hundred characters). */
  line: string;
}

export interface SearchResult {
  matches: SearchMatch[];
  /** Where the search started (later than asked when older bytes are gone). */
  offset: number;
  /** Where it stopped: the end of output, or where to continue (`since`) when the limit or scan cap was hit. */
  nextOffset: number;
  gap: number;
  scannedBytes: number;
  /** True when the limit or the scan cap stopped the search before the end. */
  truncated: boolean;
}
