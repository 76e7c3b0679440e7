// The grid: many live sessions side by side (2×2, 3×3; grouped by task or by a label), each a small live xterm
// with its state badge that opens the full session on click. A tile never sends a size: it draws the session at
// its real size and scales the drawing to the tile, so looking at sessions here never resizes them for anyone.
// Output is hostile as in the full terminal: no clipboard writes, no links, text only around it.

import { Terminal } from '@xterm/xterm';
import type { SessionInfo } from '../protocol/sessionTypes.js';
import { BelEndsControlStrings } from '../protocol/controlStrings.js';
import { Disposer, h, replaceChildren, type Disposable } from './dom.js';
import { sessionTitle, shortCommand, stateBadge } from './format.js';
import type { LiveSessions } from './liveSessions.js';
import { TerminalConnection } from './terminalConnection.js';

/** A tile replays this much of the recent past: enough to fill a screen, little enough for nine at once. */
const TILE_REPLAY_BYTES = 64 * 1024;
/** Scrollback of a tile: it shows the screen, not history. */
const TILE_SCROLLBACK = 200;
const LAYOUTS = [2, 3] as const;

/** What tests (and the console) can read of the grid: each tile's session, text and terminal size. */
export interface GridProbe {
  tiles(): { id: string; text: string; cols: number; rows: number; connected: boolean }[];
}

declare global {
  interface Window {
    corralGrid?: GridProbe;
  }
}

class GridTile implements Disposable {
  readonly element: HTMLElement;
  readonly term: Terminal;
  readonly connection: TerminalConnection;
  private readonly badge = h('span', { class: 'tile-badge' });
  private readonly screen = h('div', { class: 'tile-screen' });
  private readonly viewport = h('div', { class: 'tile-viewport' });
  private readonly filter = new BelEndsControlStrings();
  private readonly disposer = new Disposer();
  private live = false;

  constructor(
    private session: SessionInfo,
    open: (id: string) => void,
  ) {
    const title = h('a', { class: 'tile-title', attrs: { href: `#/s/${session.id}` } }, sessionTitle(session));
    this.element = h('article', { class: 'tile', attrs: { 'data-session-id': session.id, 'aria-label': sessionTitle(session) } },
      h('header', { class: 'tile-head' }, this.badge, title, h('span', { class: 'sub mono' }, shortCommand(session))),
      this.viewport);
    this.viewport.appendChild(this.screen);
    // The whole tile opens the session; the link inside stays the keyboard's way in.
    this.viewport.addEventListener('click', () => open(session.id));
    this.term = new Terminal({
      cols: session.cols,
      rows: session.rows,
      scrollback: TILE_SCROLLBACK,
      disableStdin: true,
      cursorBlink: false,
      fontSize: 12,
      fontFamily: '"DejaVu Sans Mono", "Menlo", "Consolas", ui-monospace, monospace',
      convertEol: session.kind === 'pipe',
      theme: { background: '#0d1117', foreground: '#d6deeb', cursor: '#0d1117' },
    });
    this.disposer.add(this.term);
    const since = Math.max(session.output.firstAvailableOffset, session.output.totalBytes - TILE_REPLAY_BYTES);
    // Read-only, and no resize frame ever: a viewer that reports no size does not vote on the session's size.
    this.connection = new TerminalConnection(session.id, since, true, {
      onOutput: (data, done) => this.term.write(this.filter.filter(data), done),
      onState: () => undefined,
      onExit: () => undefined,
      // The session's real size, as every viewer is told when it changes: draw it at that size.
      onSize: (cols, rows) => this.update({ ...this.session, cols, rows }),
      onGap: () => undefined,
      onStatus: (status) => {
        this.live = status === 'live';
        this.element.classList.toggle('tile-offline', status === 'reconnecting');
      },
    });
    this.disposer.add(this.connection);
    this.update(session);
  }

  start(): void {
    this.term.open(this.screen);
    this.disposer.add(this.term.parser.registerOscHandler(52, () => true));
    const observer = new ResizeObserver(() => this.scale());
    observer.observe(this.viewport);
    this.disposer.add(() => observer.disconnect());
    this.connection.connect();
    this.scale();
  }

  /** A new picture of the session: its badge, and its size if someone else resized it. */
  update(session: SessionInfo): void {
    this.session = session;
    replaceChildren(this.badge, stateBadge(session.state));
    if (session.cols !== this.term.cols || session.rows !== this.term.rows) {
      this.term.resize(session.cols, session.rows);
      this.scale();
    }
  }

  /** Fits the drawing of the whole session screen into the tile's width, keeping its aspect. */
  private scale(): void {
    const inner = this.screen.firstElementChild as HTMLElement | null;
    const width = inner?.offsetWidth ?? 0;
    const height = inner?.offsetHeight ?? 0;
    if (width === 0 || height === 0) return;
    const factor = Math.min(1, this.viewport.clientWidth / width);
    this.screen.style.transform = `scale(${factor})`;
    this.viewport.style.height = `${Math.ceil(height * factor)}px`;
  }

  probe(): { id: string; text: string; cols: number; rows: number; connected: boolean } {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return { id: this.session.id, text: lines.join('\n').trimEnd(), cols: this.term.cols, rows: this.term.rows, connected: this.live };
  }

  dispose(): void {
    this.disposer.dispose();
  }
}

type Grouping = 'none' | 'task' | `label:${string}`;

export function renderGridView(root: HTMLElement, live: LiveSessions, navigate: (hash: string) => void): Disposable {
  const disposer = new Disposer();
  const tiles = new Map<string, GridTile>();
  let size: (typeof LAYOUTS)[number] = 2;
  let grouping: Grouping = 'none';
  let page = 0;

  const layoutSelect = h('select', { attrs: { id: 'grid-layout', 'aria-label': 'Grid layout' } }, ...LAYOUTS.map((n) => h('option', { attrs: { value: String(n) } }, `${n}×${n}`)));
  const groupSelect = h('select', { attrs: { id: 'grid-group', 'aria-label': 'Group by' } });
  const pageInfo = h('span', { class: 'sub', attrs: { role: 'status' } });
  const prev = h('button', { attrs: { type: 'button', id: 'grid-prev' } }, '← Previous');
  const next = h('button', { attrs: { type: 'button', id: 'grid-next' } }, 'Next →');
  const body = h('div', { class: 'grid-groups', attrs: { id: 'grid' } });

  layoutSelect.addEventListener('change', () => ((size = Number(layoutSelect.value) as 2 | 3), (page = 0), render()));
  groupSelect.addEventListener('change', () => ((grouping = groupSelect.value as Grouping), (page = 0), render()));
  prev.addEventListener('click', () => ((page = Math.max(0, page - 1)), render()));
  next.addEventListener('click', () => ((page += 1), render()));

  replaceChildren(root,
    h('nav', { class: 'crumbs' }, h('a', { attrs: { href: '#/' } }, '← Sessions')),
    h('section', { class: 'toolbar', attrs: { 'aria-label': 'Grid options' } }, layoutSelect, groupSelect, prev, next, pageInfo),
    body);

  const open = (id: string): void => navigate(`#/s/${id}`);

  function groupOf(session: SessionInfo): string {
    if (grouping === 'task') return session.taskId ?? 'No task';
    if (grouping.startsWith('label:')) {
      const key = grouping.slice('label:'.length);
      return session.labels[key] === undefined ? `No ${key}` : `${key}=${session.labels[key]}`;
    }
    return '';
  }

  function render(): void {
    const sessions = [...live.sessions.values()].filter((s) => s.state !== 'terminated').sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const labelKeys = [...new Set(sessions.flatMap((s) => Object.keys(s.labels)))].sort();
    const choices: [string, string][] = [['none', 'No grouping'], ['task', 'By task'], ...labelKeys.map((k): [string, string] => [`label:${k}`, `By label ${k}`])];
    if (groupSelect.options.length !== choices.length) {
      replaceChildren(groupSelect, ...choices.map(([value, text]) => h('option', { attrs: { value } }, text)));
      groupSelect.value = choices.some(([value]) => value === grouping) ? grouping : 'none';
    }
    const ordered = [...sessions].sort((a, b) => groupOf(a).localeCompare(groupOf(b)));
    const perPage = size * size;
    const pages = Math.max(1, Math.ceil(ordered.length / perPage));
    page = Math.min(page, pages - 1);
    const shown = ordered.slice(page * perPage, (page + 1) * perPage);
    pageInfo.textContent = ordered.length === 0 ? 'No live sessions.' : `Page ${page + 1} of ${pages} · ${ordered.length} live`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;

    for (const [id, tile] of tiles) {
      if (!shown.some((s) => s.id === id)) {
        tile.dispose();
        tiles.delete(id);
      }
    }
    const groups = new Map<string, SessionInfo[]>();
    for (const session of shown) groups.set(groupOf(session), [...(groups.get(groupOf(session)) ?? []), session]);
    const fresh: GridTile[] = [];
    replaceChildren(body, ...[...groups].map(([name, members]) =>
      h('section', { class: 'grid-group', attrs: { 'aria-label': name === '' ? 'Sessions' : name } },
        name === '' ? null : h('h2', {}, name),
        h('div', { class: `grid cols-${size}` }, ...members.map((session) => {
          let tile = tiles.get(session.id);
          if (tile === undefined) {
            tile = new GridTile(session, open);
            tiles.set(session.id, tile);
            fresh.push(tile);
          } else {
            tile.update(session);
          }
          return tile.element;
        })))));
    // xterm.js measures its box: open only once the tile is in the page.
    for (const tile of fresh) tile.start();
  }

  disposer.add(live.onChange(render));
  disposer.add(() => {
    for (const tile of tiles.values()) tile.dispose();
    tiles.clear();
    delete window.corralGrid;
  });
  window.corralGrid = { tiles: () => [...tiles.values()].map((tile) => tile.probe()) };
  render();
  return disposer;
}
