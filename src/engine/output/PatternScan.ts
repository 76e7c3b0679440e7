// Follows an output stream from an offset and tests a regex on its text view, catching up on everything kept
// (ring and journal) in bounded pieces and yielding between them. It must never block the event loop for a whole
// backlog, nor miss a match that straddles two pieces.

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Disposable } from '../../common/lifecycle.js';
import type { OutputStream } from './OutputStream.js';
import { toPlainText } from './textView.js';
import { completeUtf8Length } from './utf8.js';

/**
 * Raw bytes decoded and tested per step: a few milliseconds of work at most, so a 64 MiB journal is caught up
 * in about a thousand short turns of the event loop rather than one long stall.
 */
export const PATTERN_SCAN_PIECE_BYTES = 64 * 1024;
/**
 * Text carried over from earlier pieces, in characters: a match up to this long that ends in a new piece is still
 * found. It bounds the memory of a wait and the text each step tests.
 */
export const PATTERN_WINDOW_CHARS = 256 * 1024;

/** RegExp.test from the start of `text`, whatever a global or sticky pattern's lastIndex was left at. */
export function testPattern(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}

export interface PatternScanHandlers {
  /** Called once, on the first match; the scan then stops. */
  onMatch(): void;
  /** Reading the stream failed (the journal on disk); the scan stops. */
  onError(error: unknown): void;
}

export class PatternScan implements Disposable {
  /** Text view of the bytes before `scannedTo`, cut to the last PATTERN_WINDOW_CHARS characters. */
  private carried = '';
  private scannedTo: number;
  private matched = false;
  private disposed = false;
  /** The catch-up loop while it runs; null when the scan is level with the stream. */
  private running: Promise<void> | null = null;
  /**
   * Data arrived while the loop was finishing: the loop may already have decided it was level (it returns, and
   * only a few microtasks later clears `running`), so it must run once more or those bytes wait for the next
   * write, which may never come (a program that prints its last line and then sleeps).
   */
  private kickedWhileRunning = false;
  private readonly subscription: Disposable;

  /** Starts scanning at once: a match in the first piece is reported before the constructor returns. */
  constructor(
    private readonly stream: OutputStream,
    private readonly pattern: RegExp,
    from: number,
    private readonly handlers: PatternScanHandlers,
  ) {
    this.scannedTo = from;
    this.subscription = stream.onData(() => this.kick());
    this.kick();
  }

  /** Resolves once every byte written so far has been tested (or a match was found, or the scan disposed). */
  async caughtUp(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  dispose(): void {
    this.disposed = true;
    this.subscription.dispose();
  }

  private kick(): void {
    if (this.matched || this.disposed) return;
    if (this.running !== null) {
      this.kickedWhileRunning = true;
      return;
    }
    this.kickedWhileRunning = false;
    this.running = this.catchUp()
      .catch((error: unknown) => {
        this.dispose();
        this.handlers.onError(error);
      })
      .finally(() => {
        this.running = null;
        if (this.kickedWhileRunning) this.kick();
      });
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const read = this.stream.read(this.scannedTo, PATTERN_SCAN_PIECE_BYTES);
      // Hold back a character cut by the piece end: the next piece starts with it.
      const complete = completeUtf8Length(read.data);
      if (complete === 0) return;
      // Bytes lost before this piece (evicted while we waited, or before `from`): text on either side is not
      // adjacent, so nothing carried may join a match with it.
      if (read.gap > 0) this.carried = '';
      this.scannedTo = read.offset + complete;
      const text = this.carried + toPlainText(read.data.subarray(0, complete).toString('utf8'));
      if (testPattern(this.pattern, text)) {
        this.matched = true;
        this.subscription.dispose();
        this.handlers.onMatch();
        return;
      }
      this.carried = text.slice(-PATTERN_WINDOW_CHARS);
      if (this.scannedTo >= this.stream.endOffset) return;
      // More is already there (a backlog, or a burst larger than a piece): let other work run between pieces.
      await nextTurn();
      if (this.disposed) return;
    }
  }
}
