// The rendered terminal of a `pty` session: a headless xterm fed from the output stream, kept off the hot path
// (bytes are handed over in batches on a later tick, and a flood beyond a bound resyncs from the tail instead of
// queueing without limit). It answers the queries programs send (DA1, cursor position) like a real terminal.

import xtermHeadless from '@xterm/headless';
import { Emitter, type Event } from '../../common/lifecycle.js';
import type { ScreenSnapshot } from '../../common/sessionTypes.js';

const { Terminal } = xtermHeadless;
type HeadlessTerminal = InstanceType<typeof Terminal>;

/**
 * xterm.js throws past 50 MB of pending writes; far below that, a screen this far behind is useless anyway.
 * Past this many unparsed bytes we stop feeding and later resync from the newest bytes.
 */
const MAX_UNPARSED_BYTES = 4 * 1024 * 1024;
/** How much of the newest output to replay into a reset terminal when resyncing after a flood. */
const RESYNC_TAIL_BYTES = 256 * 1024;
/** Lines of scrollback kept by the headless terminal (for the `screen` scrollback view). */
const SCROLLBACK_LINES = 2000;

export class ScreenTracker {
  private readonly term: HeadlessTerminal;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private unparsedBytes = 0;
  /** Newest bytes that arrived while the terminal was too far behind. */
  private droppedTail: Buffer[] = [];
  private droppedTailBytes = 0;
  private currentTitle = '';
  private disposed = false;
  private readonly changedEmitter = new Emitter<void>();
  /** Fires after a batch of output was parsed into the screen (coalesced). */
  readonly onChanged: Event<void> = this.changedEmitter.event;
  private readonly titleEmitter = new Emitter<string>();
  readonly onTitle: Event<string> = this.titleEmitter.event;

  constructor(
    cols: number,
    rows: number,
    /** Where the terminal's answers to queries go (the program's input). */
    private readonly reply: (data: string) => void,
  ) {
    this.term = new Terminal({ cols, rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true });
    this.term.onData((data) => {
      if (!this.disposed) this.reply(data);
    });
    this.term.onTitleChange((title) => {
      this.currentTitle = title;
      this.titleEmitter.fire(title);
    });
  }

  /** Hot path: only queues. */
  write(data: Buffer): void {
    if (this.disposed) return;
    if (this.unparsedBytes > MAX_UNPARSED_BYTES) {
      this.keepDroppedTail(data);
      return;
    }
    this.pending.push(data);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private keepDroppedTail(data: Buffer): void {
    this.droppedTail.push(data);
    this.droppedTailBytes += data.length;
    while (this.droppedTailBytes - (this.droppedTail[0]?.length ?? 0) >= RESYNC_TAIL_BYTES && this.droppedTail.length > 1) {
      const first = this.droppedTail.shift();
      this.droppedTailBytes -= first?.length ?? 0;
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.disposed || this.pending.length === 0) return;
    const batch = this.pending.length === 1 && this.pending[0] !== undefined ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    this.unparsedBytes += batch.length;
    this.term.write(batch, () => this.parsed(batch.length));
  }

  private parsed(bytes: number): void {
    this.unparsedBytes -= bytes;
    if (this.disposed) return;
    if (this.unparsedBytes === 0 && this.droppedTail.length > 0) {
      // Caught up after a flood: the screen depends on the recent bytes, so rebuild it from the newest tail.
      const tail = Buffer.concat(this.droppedTail);
      this.droppedTail = [];
      this.droppedTailBytes = 0;
      this.term.reset();
      this.unparsedBytes += tail.length;
      this.term.write(tail, () => this.parsed(tail.length));
      return;
    }
    this.changedEmitter.fire();
  }

  /** Resolves once everything written so far is parsed into the screen. */
  settled(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.flush();
    if (this.unparsedBytes === 0 && this.droppedTail.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const sub = this.changedEmitter.event(() => {
        if (this.unparsedBytes === 0 && this.droppedTail.length === 0) {
          sub.dispose();
          resolve();
        }
      });
    });
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.term.resize(cols, rows);
  }

  get title(): string {
    return this.currentTitle;
  }

  snapshot(): ScreenSnapshot {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.term.rows; y++) {
      lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    }
    return {
      cols: this.term.cols,
      rows: this.term.rows,
      lines,
      cursor: { x: buffer.cursorX, y: buffer.cursorY },
      title: this.currentTitle,
      alternateScreen: buffer.type === 'alternate',
    };
  }

  /** The visible screen as one string (rows joined by \n), for pattern matching. */
  text(): string {
    return this.snapshot().lines.join('\n');
  }

  /** Scrollback lines above the visible screen (normal buffer only; full-screen programs have none). */
  scrollback(maxLines: number): string[] {
    const buffer = this.term.buffer.normal;
    const end = buffer.baseY;
    const start = Math.max(0, end - maxLines);
    const lines: string[] = [];
    for (let y = start; y < end; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
    return lines;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pending = [];
    this.droppedTail = [];
    this.changedEmitter.dispose();
    this.titleEmitter.dispose();
    this.term.dispose();
  }
}
