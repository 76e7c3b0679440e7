// The session state machine of PRODUCT §1.1: a checked transition table. An illegal transition is a bug:
// it is refused and reported to the caller (who logs it), never silently applied.

import type { SessionState, StateEvent, StateSource } from '../protocol/sessionTypes.js';

const LIVE_WORK_STATES: SessionState[] = ['busy', 'idle', 'waiting_input', 'authenticating', 'error'];

/** Allowed next states, per state. `terminating` and `terminated` are reachable from every live state. */
const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  initializing: ['authenticating', 'ready', 'busy', 'waiting_input', 'error', 'terminating', 'terminated'],
  authenticating: ['ready', 'waiting_input', 'busy', 'idle', 'error', 'terminating', 'terminated'],
  ready: [...LIVE_WORK_STATES, 'terminating', 'terminated'],
  busy: ['idle', 'waiting_input', 'authenticating', 'error', 'terminating', 'terminated'],
  idle: ['busy', 'waiting_input', 'authenticating', 'error', 'terminating', 'terminated'],
  waiting_input: ['busy', 'idle', 'ready', 'authenticating', 'error', 'terminating', 'terminated'],
  error: ['busy', 'idle', 'ready', 'waiting_input', 'authenticating', 'terminating', 'terminated'],
  terminating: ['terminated'],
  terminated: [],
};

function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

export type TransitionResult =
  | { ok: true; event: StateEvent }
  | { ok: false; reason: 'same_state' | 'illegal'; from: SessionState; to: SessionState };

/** Holds one session's current state and the sequence of its events. */
export class StateMachine {
  private current: SessionState;
  private currentReason: string;
  private currentSource: StateSource;
  private seq: number;

  constructor(initial: { state: SessionState; reason: string; source: StateSource; seq?: number }) {
    this.current = initial.state;
    this.currentReason = initial.reason;
    this.currentSource = initial.source;
    this.seq = initial.seq ?? 0;
  }

  get state(): SessionState {
    return this.current;
  }

  get reason(): string {
    return this.currentReason;
  }

  get source(): StateSource {
    return this.currentSource;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The first event of a session (from: null). */
  initialEvent(at: string): StateEvent {
    this.seq = Math.max(this.seq, 1);
    return { seq: 1, from: null, to: this.current, at, reason: this.currentReason, source: this.currentSource };
  }

  transition(to: SessionState, reason: string, source: StateSource, at: string): TransitionResult {
    const from = this.current;
    if (from === to) return { ok: false, reason: 'same_state', from, to };
    if (!canTransition(from, to)) return { ok: false, reason: 'illegal', from, to };
    this.current = to;
    this.currentReason = reason;
    this.currentSource = source;
    this.seq++;
    return { ok: true, event: { seq: this.seq, from, to, at, reason, source } };
  }
}
