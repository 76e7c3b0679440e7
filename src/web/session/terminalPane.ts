// The terminal pane: an xterm.js terminal fit to its box, fed by the session's WebSocket, sending typing and
// resizes back. Terminal output is hostile: it must never write the clipboard (OSC 52), open a link without a
// click, or reach the page as HTML (the title bar is set as text).

import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import type { ExitInfo } from '../../protocol/sessionTypes.js';
import type { StateFrame } from '../../protocol/wsFrames.js';
import { Disposer, h, type Disposable } from '../dom.js';
import { TerminalConnection, type LinkStatus } from '../terminalConnection.js';
import { BelEndsControlStrings } from '../../protocol/controlStrings.js';

/** Lines the browser terminal keeps: enough to scroll back through a long build, ~10 MB of memory at most. */
const SCROLLBACK_LINES = 10_000;
/** Window resizes come in bursts; the program gets one SIGWINCH per 100 ms at most. */
const RESIZE_DEBOUNCE_MS = 100;

/** What the connection reports beyond output, which the pane writes itself. */
export interface PaneHandlers {
  onState(change: StateFrame): void;
  onExit(exit: ExitInfo): void;
  onSize(cols: number, rows: number): void;
  onStatus(status: LinkStatus, detail: string): void;
}

export class TerminalPane implements Disposable {
  /** The title bar and the terminal's box (`#terminal`). */
  readonly element: HTMLElement;
  readonly term: Terminal;
  readonly connection: TerminalConnection;
  private readonly host: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly fitAddon = new FitAddon();
  private readonly controlStrings = new BelEndsControlStrings();
  private readonly disposer = new Disposer();
  private resizeTimer: number | null = null;

  /**
   * `since` is where the first attach starts reading; `pipe` says the session has no terminal (its output
   * needs CR added before LF, and the daemon refuses its resize).
   */
  constructor(sessionId: string, since: number, private pipe: boolean, handlers: PaneHandlers) {
    this.titleEl = h('span', { class: 'term-title', attrs: { id: 'terminal-title', title: 'Title set by the program' } });
    this.host = h('div', { class: 'term', attrs: { id: 'terminal' } });
    this.element = h('div', { class: 'term-wrap' }, h('div', { class: 'term-bar' }, this.titleEl), this.host);

    this.term = new Terminal({
      scrollback: SCROLLBACK_LINES,
      cursorBlink: true,
      fontSize: 13,
      fontFamily: '"DejaVu Sans Mono", "Menlo", "Consolas", ui-monospace, monospace',
      convertEol: pipe,
      theme: { background: '#0d1117', foreground: '#d6deeb', cursor: '#7fdbca', selectionBackground: '#2f4f6f' },
      // OSC 8 links: opened only by a click, only http(s), in a new tab that cannot reach back to us.
      linkHandler: { activate: (event, uri) => openLink(event, uri), allowNonHttpProtocols: false },
    });
    this.term.loadAddon(this.fitAddon);
    this.disposer.add(this.term);

    this.connection = new TerminalConnection(sessionId, since, false, {
      // BEL ends a DCS/APC string as it does an OSC: without this one such string blanks the terminal for good.
      onOutput: (data, done) => this.term.write(this.controlStrings.filter(data), done),
      onState: (change) => handlers.onState(change),
      onExit: (exit) => handlers.onExit(exit),
      onSize: (cols, rows) => handlers.onSize(cols, rows),
      onGap: (from, to) => this.term.write(`\r\n\x1b[33m[${to - from} bytes of older output are no longer available]\x1b[0m\r\n`),
      onStatus: (status, detail) => {
        handlers.onStatus(status, detail);
        // Every (re)attach: tell the program our size, in case it changed while we were away.
        if (status === 'live') this.sendSize(this.term.cols, this.term.rows);
      },
    });
    this.disposer.add(this.connection);
  }

  /** Opens the terminal in its box, which must be in the page by now (xterm.js measures it), and fits it. */
  open(): void {
    const term = this.term;
    term.open(this.host);
    // OSC 52 (clipboard write): xterm.js core has no handler (only the separate clipboard addon does), but a
    // handler that claims the sequence guarantees nothing later in the chain ever acts on it.
    this.disposer.add(term.parser.registerOscHandler(52, () => true));
    this.disposer.add(term.onTitleChange((title) => (this.titleEl.textContent = title)));
    this.disposer.add(term.onData((data) => this.connection.send({ type: 'input', data })));
    this.disposer.add(term.onBinary((data) => this.connection.send({ type: 'input', data })));
    this.disposer.add(term.onResize(({ cols, rows }) => this.sendSize(cols, rows)));

    const observer = new ResizeObserver(() => {
      if (this.resizeTimer !== null) window.clearTimeout(this.resizeTimer);
      this.resizeTimer = window.setTimeout(() => {
        this.resizeTimer = null;
        this.fit();
      }, RESIZE_DEBOUNCE_MS);
    });
    observer.observe(this.host);
    this.disposer.add(() => {
      observer.disconnect();
      if (this.resizeTimer !== null) window.clearTimeout(this.resizeTimer);
    });
  }

  fit(): void {
    // A hidden or zero-sized host (phone rotating, tab in background) gives nonsense dimensions.
    if (this.host.clientWidth < 20 || this.host.clientHeight < 20) return;
    this.fitAddon.fit();
  }

  /** For a session read after the pane was made: whether it is a pipe session (see the constructor). */
  setPipe(pipe: boolean): void {
    this.pipe = pipe;
    this.term.options.convertEol = pipe;
  }

  /** Keyboard input to the terminal on or off (ended session, read-only view). */
  setInputDisabled(disabled: boolean): void {
    this.term.options.disableStdin = disabled;
  }

  focus(): void {
    this.term.focus();
  }

  private sendSize(cols: number, rows: number): void {
    // A pipe session has no terminal: the daemon refuses its resize.
    if (!this.connection.isReadOnly && !this.pipe) this.connection.send({ type: 'resize', cols, rows });
  }

  dispose(): void {
    this.disposer.dispose();
  }
}

function openLink(event: MouseEvent, uri: string): void {
  // Only a real click opens a link; only http(s); the new tab gets no window.opener and no referrer.
  if (event.type !== 'click' && event.type !== 'mouseup') return;
  let url: URL;
  try {
    url = new URL(uri);
  } catch (error) {
    console.warn('not a link', error);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
  window.open(url.href, '_blank', 'noopener,noreferrer');
}
