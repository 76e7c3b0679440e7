// The rendered terminal of a `pty` session: a headless xterm fed from the output stream, kept off the hot path
// (bytes are handed over in batches on a later tick). Under a flood it stops parsing everything: it keeps only the
// newest bytes and rebuilds the screen from them on a duty cycle, so parsing never takes more than a fraction of
// the daemon's time (the output stream itself keeps every byte). It answers terminal queries like a real terminal.

import { performance } from 'node:perf_hooks';
import xtermHeadless from '@xterm/headless';
import { Emitter, type Event } from '../../common/lifecycle.js';
import type { ScreenSnapshot } from '../../protocol/sessionTypes.js';
import { BelEndsControlStrings } from '../../protocol/controlStrings.js';

const { Terminal } = xtermHeadless;
type HeadlessTerminal = InstanceType<typeof Terminal>;

/**
 * Past this many bytes handed to xterm and not yet parsed, output is a flood: xterm parses ~20 MB/s here, so this
 * is ~25 ms of parsing behind. (xterm.js itself throws past 50 MB pending; we never get near that.)
 */
const FLOOD_UNPARSED_BYTES = 512 * 1024;
/** How much of the newest output to replay into a reset terminal when resyncing during or after a flood. */
const RESYNC_TAIL_BYTES = 256 * 1024;
/** During a flood, wait this many times the last parse's duration before the next resync: parsing ≤ ~25% of time. */
const FLOOD_COOLDOWN_FACTOR = 3;
/** Bounds of that wait: short enough that the screen stays fresh, long enough to matter. */
const FLOOD_COOLDOWN_MIN_MS = 20;
const FLOOD_COOLDOWN_MAX_MS = 1000;
/** Lines of scrollback kept by the headless terminal (for the `screen` scrollback view). */
const SCROLLBACK_LINES = 2000;

export class ScreenTracker {
  /** Created with the first output: a session that prints nothing never pays for a terminal emulator. */
  private term: HeadlessTerminal | null = null;
  private cols: number;
  private rows: number;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private unparsedBytes = 0;
  /** In a flood: new bytes only refresh the dropped tail; the screen is rebuilt from it on a duty cycle. */
  private behind = false;
  private resyncTimer: NodeJS.Timeout | null = null;
  private lastParseMs = 0;
  /** Told by settled({ outputEnded }): a flood's rebuilds no longer wait out a cooldown. */
  private outputEnded = false;
  /** Newest bytes that arrived while the terminal was too far behind. */
  private droppedTail: Buffer[] = [];
  private droppedTailBytes = 0;
  private currentTitle = '';
  /** BEL ends a DCS/SOS/PM/APC string here too, or one such string would blank the screen for good. */
  private readonly controlStrings = new BelEndsControlStrings();
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
    /** The shortest wait between two rebuilds in a flood (tests stretch it to show what never waits for it). */
    private readonly floodCooldownMinMs = FLOOD_COOLDOWN_MIN_MS,
  ) {
    this.cols = cols;
    this.rows = rows;
  }

  private terminal(): HeadlessTerminal {
    if (this.term !== null) return this.term;
    const term = new Terminal({ cols: this.cols, rows: this.rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true });
    term.onData((data) => {
      if (!this.disposed) this.reply(data);
    });
    term.onTitleChange((title) => {
      this.currentTitle = title;
      this.titleEmitter.fire(title);
    });
    this.term = term;
    return term;
  }

  /** Hot path: only queues. */
  write(data: Buffer): void {
    if (this.disposed) return;
    if (this.behind) {
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
    this.parse(batch);
    if (this.unparsedBytes > FLOOD_UNPARSED_BYTES) this.behind = true;
  }

  private parse(batch: Buffer): void {
    this.unparsedBytes += batch.length;
    const started = performance.now();
    this.terminal().write(this.controlStrings.filter(batch), () => {
      this.lastParseMs = performance.now() - started;
      this.parsed(batch.length);
    });
  }

  private parsed(bytes: number): void {
    this.unparsedBytes -= bytes;
    if (this.disposed) return;
    if (this.unparsedBytes !== 0) return;
    if (this.behind && this.resyncTimer === null) {
      const cooldown = this.outputEnded
        ? 0
        : Math.max(this.floodCooldownMinMs, Math.min(FLOOD_COOLDOWN_MAX_MS, this.lastParseMs * FLOOD_COOLDOWN_FACTOR));
      this.resyncTimer = setTimeout(() => this.resync(), cooldown);
    }
    this.changedEmitter.fire();
  }

  /**
   * Rebuilds the screen from the newest bytes (a reset loses modes set earlier in the flood — acceptable: a screen
   * that far behind is only useful as "what is on it now"). With nothing new, the flood is over.
   */
  private resync(): void {
    this.resyncTimer = null;
    if (this.disposed) return;
    if (this.droppedTail.length === 0) {
      this.behind = false;
      this.changedEmitter.fire();
      return;
    }
    const tail = Buffer.concat(this.droppedTail);
    this.droppedTail = [];
    this.droppedTailBytes = 0;
    this.terminal().reset();
    this.controlStrings.reset();
    this.parse(tail);
  }

  /**
   * Resolves once everything written so far is parsed into the screen. During a flood the screen is rebuilt on a
   * duty cycle, and the next rebuild is as settled as it gets — unless `outputEnded` says no more bytes will come
   * (the final screen of an exited session): then the rebuild runs at once instead of after its cooldown, and the
   * promise waits for the flood's end.
   */
  settled(options: { outputEnded?: boolean } = {}): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.flush();
    const final = options.outputEnded === true;
    const done = (): boolean => this.unparsedBytes === 0 && (!final || !this.behind);
    if (done() && !this.behind) return Promise.resolve();
    return new Promise((resolve) => {
      const sub = this.changedEmitter.event(() => {
        if (done()) {
          sub.dispose();
          resolve();
        }
      });
      if (final) this.endOfOutput();
    });
  }

  /**
   * No more output will come. The duty cycle only keeps parsing from crowding out a flood that is still arriving;
   * waiting out its cooldown now would only delay the session's exit (by 40–250 ms after a 50 MB flood).
   */
  private endOfOutput(): void {
    this.outputEnded = true;
    if (this.resyncTimer !== null) {
      clearTimeout(this.resyncTimer);
      this.resync();
    }
  }

  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.cols = cols;
    this.rows = rows;
    this.term?.resize(cols, rows);
  }

  get title(): string {
    return this.currentTitle;
  }

  snapshot(): ScreenSnapshot {
    if (this.term === null) {
      // Nothing was printed yet: a blank screen, cursor home.
      const lines = Array.from({ length: this.rows }, () => '');
      return { cols: this.cols, rows: this.rows, lines, cursor: { x: 0, y: 0 }, title: '', alternateScreen: false };
    }
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
    if (this.term === null) return [];
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
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer);
    this.pending = [];
    this.droppedTail = [];
    this.changedEmitter.dispose();
    this.titleEmitter.dispose();
    this.term?.dispose();
  }
}
