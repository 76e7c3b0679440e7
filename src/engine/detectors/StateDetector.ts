// How a session learns its state beyond spawn and exit: one detector per session, chosen by the profile's
// `stateDetection` rule. Detectors see output (cheaply, on the hot path), screen changes and input, and move
// the session through its checked state machine; they never touch the process or the transport.

import type { Disposable } from '../../common/lifecycle.js';
import type { SessionState, StateSource } from '../../protocol/sessionTypes.js';
import type { Profile } from '../profiles/profileSchema.js';
import type { ScreenTracker } from '../screen/ScreenTracker.js';
import type { OutputStream } from '../output/OutputStream.js';

/** What a detector may see and do to its session. */
export interface DetectorHost {
  readonly sessionId: string;
  readonly profile: Profile;
  readonly state: SessionState;
  /** The rendered screen (pty sessions only). */
  readonly screen: ScreenTracker | null;
  readonly output: OutputStream;
  setState(to: SessionState, reason: string, source: StateSource): boolean;
  /** Writes to the program's input (e.g. answering a terminal query, or an opted-in auto-answer). */
  write(data: string): void;
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  /** Dialog ids (or `tool:<Name>`) the caller opted in to answering automatically; empty by default. */
  readonly autoAnswer: readonly string[];
}

export interface StateDetector extends Disposable {
  /** The process has started. */
  onStart(): void;
  /** Output arrived (hot path: keep it O(1); defer real work). */
  onOutput(data: Buffer): void;
  /** The caller wrote input. */
  onInput(data: string | Buffer): void;
}
