// The rendered terminal of a `pty` session: a headless xterm fed from the output stream, kept off the hot path
// (bytes are handed over in batches on a later tick). Under a flood it stops parsing everything: it keeps only the
// newest bytes and rebuilds the screen from them on a duty cycle, so parsing never takes more than a fraction of
// the daemon's time (the output stream itself keeps every byte). It answers terminal queries like a real terminal.
//
// A terminal emulator costs ~250 KiB per session, most of an idle shell's cost in the daemon (issue 18). With a
// history (the session's output stream) the tracker only builds one when something needs it (a screen read, a
// screen wait, a detector that watches the screen, a terminal query to answer, output piling up) and drops it again
// when nobody has looked for a while; a rebuild replays the stream from where the terminal's content began, with
// every resize at the offset it happened, so it is the screen that was never dropped (test/engine/screen/
// screenRebuild.test.ts checks that cell by cell). It only drops what a bounded replay can rebuild.

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
/** A terminal nobody looked at for this long is dropped (when it can be rebuilt), and rebuilt on the next look. */
const DROP_AFTER_MS = 30_000;
/**
 * A dropped terminal is rebuilt by replaying the output since its content began: at most this much (~50 ms of
 * parsing), and no more than half what the history keeps in memory (its ring). A terminal with more behind it stays; a dropped
 * one whose unparsed output would grow past this is rebuilt first.
 */
const REPLAY_LIMIT_BYTES = 1024 * 1024;

/** Where a tracker with a history reads back the output it was fed (the session's combined output stream). */
export interface ScreenHistory {
  /** Offset just past the last byte written to the stream (and so to the tracker). */
  readonly endOffset: number;
  /** Oldest offset still readable. */
  readonly firstAvailableOffset: number;
  /** Newest bytes it keeps whatever happens to its disk copy: a replay within them is always exact. */
  readonly memoryCapBytes: number;
  read(since: number, maxBytes: number): { data: Buffer; offset: number };
}

export interface ScreenTrackerOptions {
  /** Lets the tracker build its terminal on demand and drop it when unwatched; without it the terminal stays. */
  history?: ScreenHistory;
  /** Idle time before an unwatched terminal is dropped (tests shorten it). */
  dropAfterMs?: number;
  /** Stream offset of the first byte this tracker will be fed (default: the history's end; a reattach feeds a tail). */
  startOffset?: number;
}

/** A resize, at the stream offset where it took effect (every byte before it was parsed at the old size). */
interface SizeChange {
  offset: number;
  cols: number;
  rows: number;
}

/**
 * Output that asks the terminal something (device attributes, status and cursor reports, mode and setting queries,
 * window reports, colour queries): a dropped terminal is rebuilt to answer it. Generous on purpose: a needless
 * rebuild only costs time, a missed query leaves a program waiting.
 */
// eslint-disable-next-line no-control-regex -- the query sequences start with ESC and end with BEL
const QUERY_PATTERN = /\x1b\[[\x20-\x3f]*[cnqtu]|\x1b\[[\x20-\x3f]*\$p|\x1bP[$+]q|\x1b\][^\x07\x1b]*;\?/;
/** Bytes of a chunk's end kept to find a query split across two chunks. */
const QUERY_CARRY_BYTES = 64;
const ESC = 0x1b;

export class ScreenTracker {
  /** Built on demand (see the top of the file); null before that and after a drop. */
  private term: HeadlessTerminal | null = null;
  private cols: number;
  private rows: number;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  private unparsedBytes = 0;
  /** Resizes handed to the terminal behind the bytes before them and not yet applied. */
  private unappliedResizes = 0;
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

  // ---- building on demand (only with a history) ----
  private readonly history: ScreenHistory | null;
  private readonly dropAfterMs: number;
  /** The longest replay a rebuild may need: REPLAY_LIMIT_BYTES, or less when the history keeps less in memory. */
  private readonly replayLimit: number;
  /** Stream offset just past the last byte fed to this tracker. */
  private fedEnd: number;
  /** Where the terminal's content began (the start, or a flood's reset) and its size there: a rebuild replays from it. */
  private contentFrom: number;
  private contentSize: { cols: number; rows: number };
  /** Resizes since `contentFrom`, in stream order. */
  private sizeChanges: SizeChange[] = [];
  /** While a rebuild replays old output (non-zero), the terminal's answers to old queries are not sent again. */
  private replaying = 0;
  private lastLook = 0;
  private dropTimer: NodeJS.Timeout | null = null;
  /** The end of the previous chunk, for a query split across chunks while no terminal exists. */
  private queryCarry = '';

  constructor(
    cols: number,
    rows: number,
    /** Where the terminal's answers to queries go (the program's input). */
    private readonly reply: (data: string) => void,
    /** The shortest wait between two rebuilds in a flood (tests stretch it to show what never waits for it). */
    private readonly floodCooldownMinMs = FLOOD_COOLDOWN_MIN_MS,
    options: ScreenTrackerOptions = {},
  ) {
    this.cols = cols;
    this.rows = rows;
    this.history = options.history ?? null;
    this.dropAfterMs = options.dropAfterMs ?? DROP_AFTER_MS;
    // Half the memory: the chunk that crosses the limit must not evict what the replay needs (a full disk aside).
    this.replayLimit = Math.min(REPLAY_LIMIT_BYTES, Math.floor((this.history?.memoryCapBytes ?? 0) / 2));
    this.fedEnd = options.startOffset ?? this.history?.endOffset ?? 0;
    this.contentFrom = this.fedEnd;
    this.contentSize = { cols, rows };
  }

  /** Whether a terminal emulator exists right now (tests and benchmarks: a dropped one costs nothing). */
  get built(): boolean {
    return this.term !== null;
  }

  private newTerminal(cols: number, rows: number): HeadlessTerminal {
    const term = new Terminal({ cols, rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true });
    term.onData((data) => {
      if (!this.disposed && this.replaying === 0) this.reply(data);
    });
    term.onTitleChange((title) => {
      this.currentTitle = title;
      if (this.replaying === 0) this.titleEmitter.fire(title);
    });
    return term;
  }

  /** The terminal, built now if it was not (replaying what it missed). */
  private terminal(): HeadlessTerminal {
    if (this.term !== null) return this.term;
    this.queryCarry = '';
    if (this.history !== null && this.dropTimer === null) this.scheduleDrop(this.dropAfterMs);
    const term = this.newTerminal(this.contentSize.cols, this.contentSize.rows);
    this.term = term;
    if (this.history !== null && this.fedEnd > this.contentFrom) this.replay(term);
    else if (term.cols !== this.cols || term.rows !== this.rows) term.resize(this.cols, this.rows);
    return term;
  }

  /**
   * Replays the output since the content began, each resize where it happened, into a new terminal: the same bytes
   * in the same order as the terminal that was dropped saw them. Its answers to queries were sent the first time.
   */
  private replay(term: HeadlessTerminal): void {
    const history = this.history;
    if (history === null) return;
    this.controlStrings.reset();
    this.replaying++;
    let offset = this.contentFrom;
    for (const change of [...this.sizeChanges, null]) {
      const until = change?.offset ?? this.fedEnd;
      while (offset < until) {
        const read = history.read(offset, Math.min(until - offset, REPLAY_LIMIT_BYTES));
        // Gone from the history (drop() makes sure it is not): what is left is all a rebuild can show.
        if (read.data.length === 0) break;
        const data = read.data.subarray(0, until - read.offset);
        offset = read.offset + data.length;
        this.unparsedBytes += data.length;
        term.write(this.controlStrings.filter(data), () => this.parsed(data.length));
      }
      offset = until;
      if (change !== null) this.queueResize(term, change.cols, change.rows);
    }
    term.write('', () => this.replaying--);
  }

  /** Someone reads the screen: it stays built for a while (output alone does not keep it). */
  private look(): void {
    this.lastLook = performance.now();
  }

  private scheduleDrop(ms: number): void {
    this.dropTimer = setTimeout(() => this.dropIfUnwatched(), ms);
    this.dropTimer.unref();
  }

  private dropIfUnwatched(): void {
    this.dropTimer = null;
    if (this.disposed || this.term === null) return;
    const idleFor = performance.now() - this.lastLook;
    if (idleFor < this.dropAfterMs) {
      this.scheduleDrop(this.dropAfterMs - idleFor);
      return;
    }
    if (!this.drop()) this.scheduleDrop(this.dropAfterMs);
  }

  /**
   * Drops the terminal when a rebuild can bring it back exactly: nobody watches it, everything fed is parsed, no
   * flood is under way, and the output since its content began is still readable and short enough to replay.
   * Returns whether it dropped. Tests call it to skip the idle wait.
   */
  drop(): boolean {
    const history = this.history;
    const term = this.term;
    if (history === null || term === null || this.disposed) return false;
    if (this.changedEmitter.listenerCount > 0 || this.titleEmitter.listenerCount > 0) return false;
    if (this.pending.length > 0 || this.unparsedBytes > 0 || this.unappliedResizes > 0 || this.behind || this.resyncTimer !== null) return false;
    if (this.fedEnd - this.contentFrom > this.replayLimit || history.firstAvailableOffset > this.contentFrom) return false;
    term.dispose();
    this.term = null;
    return true;
  }

  /** Hot path: only queues (or, with no terminal built and none needed, only counts). */
  write(data: Buffer): void {
    if (this.disposed) return;
    if (this.term === null && this.history !== null) {
      if (!this.needsTerminal(data)) {
        this.fedEnd += data.length;
        return;
      }
      // Built from what came before; these bytes then go through the queue like any others (a query is answered).
      this.terminal();
    }
    this.fedEnd += data.length;
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

  /**
   * With no terminal built: whether these bytes need one now. A watcher (a detector, a screen wait) sees every
   * change; a query needs its answer; and past the replay bound a later rebuild would cost too much.
   */
  private needsTerminal(data: Buffer): boolean {
    if (this.changedEmitter.listenerCount > 0 || this.titleEmitter.listenerCount > 0) return true;
    if (this.fedEnd + data.length - this.contentFrom > this.replayLimit) return true;
    if (this.queryCarry === '' && !data.includes(ESC)) return false;
    const text = this.queryCarry + data.toString('latin1');
    this.queryCarry = text.slice(-QUERY_CARRY_BYTES);
    return QUERY_PATTERN.test(text);
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
    const term = this.terminal();
    this.unparsedBytes += batch.length;
    const started = performance.now();
    term.write(this.controlStrings.filter(batch), () => {
      this.lastParseMs = performance.now() - started;
      this.parsed(batch.length);
    });
  }

  private parsed(bytes: number): void {
    this.unparsedBytes -= bytes;
    if (this.disposed) return;
    if (this.unparsedBytes !== 0 || this.unappliedResizes !== 0) return;
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
   * that far behind is only useful as "what is on it now"). With nothing new, the flood is over. The content now
   * begins with that tail: a later rebuild after a drop replays from there.
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
    this.contentFrom = this.fedEnd - tail.length;
    this.contentSize = { cols: this.cols, rows: this.rows };
    this.sizeChanges = [];
    this.parse(tail);
  }

  /**
   * Resolves once everything written so far is parsed into the screen (building it if it was not). During a flood
   * the screen is rebuilt on a duty cycle, and the next rebuild is as settled as it gets — unless `outputEnded` says
   * no more bytes will come (the final screen of an exited session): then the rebuild runs at once instead of after
   * its cooldown, and the promise waits for the flood's end.
   */
  settled(options: { outputEnded?: boolean } = {}): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.look();
    if (this.fedEnd > this.contentFrom) this.terminal();
    this.flush();
    const final = options.outputEnded === true;
    const done = (): boolean => this.unparsedBytes === 0 && this.unappliedResizes === 0 && (!final || !this.behind);
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

  /**
   * Takes effect after every byte written before it is parsed (not in the middle of a batch still queued), so a
   * replay that resizes at the same offset renders the same screen.
   */
  resize(cols: number, rows: number): void {
    if (this.disposed) return;
    this.cols = cols;
    this.rows = rows;
    if (this.history !== null) {
      const last = this.sizeChanges.at(-1);
      if (last !== undefined && last.offset === this.fedEnd) this.sizeChanges.pop();
      this.sizeChanges.push({ offset: this.fedEnd, cols, rows });
    }
    const term = this.term;
    if (term === null) return;
    this.flush();
    this.queueResize(term, cols, rows);
  }

  private queueResize(term: HeadlessTerminal, cols: number, rows: number): void {
    this.unappliedResizes++;
    term.write('', () => {
      this.unappliedResizes--;
      if (!this.disposed && this.term === term) term.resize(cols, rows);
      this.parsed(0);
    });
  }

  get title(): string {
    return this.currentTitle;
  }

  /** Whether the program has bracketed paste on (DECSET 2004): some CLIs turn it on as they start reading keys. */
  get bracketedPasteMode(): boolean {
    this.look();
    return this.terminal().modes.bracketedPasteMode;
  }

  snapshot(): ScreenSnapshot {
    this.look();
    if (this.fedEnd === this.contentFrom && this.term === null) {
      // Nothing was printed yet: a blank screen, cursor home.
      const lines = Array.from({ length: this.rows }, () => '');
      return { cols: this.cols, rows: this.rows, lines, cursor: { x: 0, y: 0 }, title: this.currentTitle, alternateScreen: false };
    }
    const term = this.terminal();
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < term.rows; y++) {
      lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    }
    return {
      cols: term.cols,
      rows: term.rows,
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
    this.look();
    if (this.fedEnd === this.contentFrom && this.term === null) return [];
    const buffer = this.terminal().buffer.normal;
    const end = buffer.baseY;
    const start = Math.max(0, end - maxLines);
    const lines: string[] = [];
    for (let y = start; y < end; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
    return lines;
  }

  /**
   * Every cell of both buffers with its colours and attributes, the cursor, the modes and the title, as one string:
   * two trackers with the same fingerprint show the same screen and scrollback (tests compare rebuilt screens).
   */
  fingerprint(): string {
    this.look();
    const term = this.terminal();
    const parts: string[] = [`${term.cols}x${term.rows} ${term.buffer.active.type} title=${this.currentTitle}`, JSON.stringify(term.modes)];
    for (const buffer of [term.buffer.normal, term.buffer.alternate]) {
      parts.push(`${buffer.type} cursor=${buffer.cursorX},${buffer.cursorY} base=${buffer.baseY} viewport=${buffer.viewportY} length=${buffer.length}`);
      const cell = buffer.getNullCell();
      for (let y = 0; y < buffer.length; y++) {
        const line = buffer.getLine(y);
        if (line === undefined) continue;
        let row = line.isWrapped ? '+' : '|';
        for (let x = 0; x < line.length; x++) {
          line.getCell(x, cell);
          row += `${cell.getChars() || ' '}\u0000${cell.getWidth()},${cell.getFgColorMode()}:${cell.getFgColor()},${cell.getBgColorMode()}:${cell.getBgColor()},`;
          row += `${cell.isBold()}${cell.isItalic()}${cell.isDim()}${cell.isUnderline()}${cell.isBlink()}${cell.isInverse()}${cell.isInvisible()}${cell.isStrikethrough()}${cell.isOverline()};`;
        }
        parts.push(row);
      }
    }
    return parts.join('\n');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.resyncTimer !== null) clearTimeout(this.resyncTimer);
    if (this.dropTimer !== null) clearTimeout(this.dropTimer);
    this.pending = [];
    this.droppedTail = [];
    this.sizeChanges = [];
    this.changedEmitter.dispose();
    this.titleEmitter.dispose();
    this.term?.dispose();
    this.term = null;
  }
}
