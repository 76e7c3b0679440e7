// The WebSocket clients of one session: coalesces the session's output into frames once per event-loop turn,
// forwards state and exit, and owns the one rule that may pause the session's process.
//
// The pause rule: the process is paused only while (1) at least one client is attached, (2) every attached
// client asked for `flow=pause`, and (3) every one of them is behind (its window is full and output is waiting).
// A single `flow=isolate` client (the default) means somebody needs the session live, so it is never paused;
// a slow isolate client simply falls behind on its own cursor and later gets the bytes from the journal, or a
// gap frame for what was evicted. Heartbeats drop a client that stops answering, which also lifts a pause.
// It also counts the clients' terminal sizes (TerminalSizeVote) and tells every client the session's real size.

import { TerminalSizeVote, type TerminalSize } from './TerminalSizeVote.js';
import { isCorralError } from '../../protocol/errors.js';
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
  private readonly sizeVote = new TerminalSizeVote<SessionSocket>();
  /** The size every client was last told (the session's own, whoever changed it). */
  private shownSize: TerminalSize;

  constructor(readonly session: LiveSession) {
    const info = session.toInfo();
    this.shownSize = { cols: info.cols, rows: info.rows };
    // A size change from anywhere (a vote here, a REST resize) is shown to every client.
    this.disposables.add(session.onInfoChanged(() => this.showSize()));
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
    if (this.sizeVote.remove(socket)) this.applySize(null);
    this.evaluate();
  }

  /** A client's resize frame: its vote (or, with `take`, the size until it leaves); the session takes the result. */
  vote(socket: SessionSocket, size: TerminalSize, take: boolean): void {
    if (this.session.toInfo().kind !== 'pty') {
      this.session.resize(size.cols, size.rows); // refused for a pipe session, with the engine's own error
      return;
    }
    this.sizeVote.set(socket, size, take);
    this.applySize(socket);
  }

  /** Resizes the session to the vote's result; `voter`: errors go back to it (others only lose their say). */
  private applySize(voter: SessionSocket | null): void {
    const size = this.sizeVote.current();
    if (size === null || this.session.exit !== null) return;
    const info = this.session.toInfo();
    if (info.cols === size.cols && info.rows === size.rows) return;
    try {
      this.session.resize(size.cols, size.rows);
    } catch (error) {
      // SESSION_NOT_RUNNING: it ended between the check and the resize; the voter hears it, a leaver need not.
      if (voter !== null || !isCorralError(error)) throw error;
    }
  }

  private showSize(): void {
    const { cols, rows } = this.session.toInfo();
    if (cols === this.shownSize.cols && rows === this.shownSize.rows) return;
    this.shownSize = { cols, rows };
    for (const socket of this.sockets) socket.sendText({ type: 'size', cols, rows });
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
