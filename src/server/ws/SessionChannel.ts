// The WebSocket clients of one session: coalesces the session's output into frames once per event-loop turn,
// forwards state and exit, and owns the one rule that may pause the session's process.
//
// The pause rule: the process is paused only while (1) at least one client is attached, (2) every attached
// client asked for `flow=pause`, and (3) every one of them is behind (its window is full and output is waiting).
// A single `flow=isolate` client (the default) means somebody needs the session live, so it is never paused;
// a slow isolate client simply falls behind on its own cursor and later gets the bytes from the journal, or a
// gap frame for what was evicted. Heartbeats drop a client that stops answering, which also lifts a pause.

import { DisposableStore, toDisposable, type Disposable } from '../../common/lifecycle.js';
import type { LiveSession } from '../../engine/engineTypes.js';
import type { SessionSocket } from './SessionSocket.js';

/** Output chunks up to this size are typed-and-echoed sized: worth a frame of their own for latency. */
const IMMEDIATE_FRAME_MAX_BYTES = 4096;

export class SessionChannel implements Disposable {
  private readonly sockets = new Set<SessionSocket>();
  private readonly disposables = new DisposableStore();
  private flushScheduled = false;
  private paused = false;

  constructor(readonly session: LiveSession) {
    this.disposables.add(session.output.onData((chunk) => this.onOutput(chunk.data.length)));
    this.disposables.add(
      session.onStateChange((event) => {
        for (const socket of this.sockets) socket.sendState(event);
      }),
    );
    // onExit fires only after the last byte is in the stream: pumping now sends the tail, then the exit frame.
    this.disposables.add(session.onExit(() => this.schedule()));
    this.disposables.add(toDisposable(() => this.setPaused(false)));
  }

  get size(): number {
    return this.sockets.size;
  }

  add(socket: SessionSocket): void {
    this.sockets.add(socket);
    socket.pump();
    this.evaluate();
  }

  remove(socket: SessionSocket): void {
    this.sockets.delete(socket);
    this.evaluate();
  }

  /**
   * Interactive output (an echo, a prompt) goes out at once: the first small chunk of an event-loop turn is sent
   * immediately, like TCP_NODELAY. Anything after it in the same turn, and any large chunk, is coalesced.
   */
  private onOutput(bytes: number): void {
    if (!this.flushScheduled && bytes <= IMMEDIATE_FRAME_MAX_BYTES) {
      for (const socket of this.sockets) socket.pump();
    }
    this.schedule();
  }

  /** Coalescing: every PTY read of this turn goes out in one frame per client. */
  schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const socket of this.sockets) socket.pump();
      this.evaluate();
    });
  }

  /** Applies the pause rule (see the top of this file). */
  evaluate(): void {
    let pause = this.sockets.size > 0 && this.session.exit === null;
    for (const socket of this.sockets) {
      if (!pause) break;
      if (socket.flow !== 'pause' || socket.isClosed || !socket.isBehind) pause = false;
    }
    this.setPaused(pause);
  }

  private setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.session.pause();
    else this.session.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  dispose(): void {
    this.disposables.dispose();
    this.sockets.clear();
  }
}
