// The session view: a live xterm.js terminal over the session's WebSocket (fit to the window, resuming by
// offset after a drop, read-only toggle), interrupt/kill/send-keys, the state timeline, the command history,
// output search with jump-to-match, and the pending question of a `waiting_input` session.
// Terminal output is hostile: it must never write the clipboard (OSC 52), open a link without a click, or
// reach the page as HTML (titles are set as text).

import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import type { ExitInfo, SessionInfo, SessionState, StateEvent } from '../protocol/sessionTypes.js';
import type { CommandRecord } from '../protocol/commandHistory.js';
import { ApiError, sessionsApi } from './api.js';
import { Disposer, h, replaceChildren, type Disposable } from './dom.js';
import { age, duration, exitText, sessionTitle, shortTime, stateBadge } from './format.js';
import type { LiveSessions } from './liveSessions.js';
import { TerminalConnection, type LinkStatus } from './terminalConnection.js';

/** Lines the browser terminal keeps: enough to scroll back through a long build, ~10 MB of memory at most. */
const SCROLLBACK_LINES = 10_000;
/** A new view replays at most the last 2 MiB: a terminal's recent past, not a flood that freezes the tab. */
const INITIAL_REPLAY_BYTES = 2 * 1024 * 1024;
/** Window resizes come in bursts; the program gets one SIGWINCH per 100 ms at most. */
const RESIZE_DEBOUNCE_MS = 100;
/** Timeline and command history re-read at most every 300 ms while states flip quickly. */
const HISTORY_REFRESH_MS = 300;
/** Search hits listed at once; the count says if there were more. */
const MAX_SEARCH_RESULTS = 200;
/** Lines of the rendered screen shown as the pending question. */
const QUESTION_LINES = 12;
/** The kill button asks for a second click within this time. */
const KILL_CONFIRM_MS = 4000;
/** A numbered option of a dialog on screen: an optional cursor mark, the number, the label. */
const DIALOG_OPTION = /^[\s│|]*(?:[❯>›]\s*)?(\d{1,2})\.\s+(\S.*?)[\s│|]*$/;
const SEND_KEYS = ['Enter', 'Escape', 'Tab', 'Up', 'Down', 'Left', 'Right', 'C-c', 'C-d', 'C-z', 'C-l', 'Backspace'];
const ANSWER_KEYS: { label: string; keys?: string[]; data?: string }[] = [
  { label: 'Accept (Enter)', keys: ['Enter'] },
  { label: '1', data: '1' },
  { label: '2', data: '2' },
  { label: '3', data: '3' },
  { label: 'y', data: 'y' },
  { label: 'n', data: 'n' },
  { label: 'Decline (Esc)', keys: ['Escape'] },
];

/** What tests (and the curious, from the console) can read; exposes nothing the page does not already show. */
export interface TerminalProbe {
  sessionId: string;
  text(): string;
  nextOffset(): number | null;
  bytesShown(): number;
  connects(): number;
  /** Closes the socket the way a network drop does; the usual reconnect follows. */
  drop(): void;
  size(): { cols: number; rows: number };
  selection(): string;
}

declare global {
  interface Window {
    corralTerminal?: TerminalProbe;
  }
}

export function renderSessionView(root: HTMLElement, id: string, live: LiveSessions): Disposable {
  const disposer = new Disposer();
  let session: SessionInfo | undefined = live.sessions.get(id);

  const badgeSlot = h('span', { attrs: { id: 'session-state' } });
  const titleEl = h('h2', { class: 'session-title' });
  const meta = h('p', { class: 'meta' });
  const termTitle = h('span', { class: 'term-title', attrs: { id: 'terminal-title', title: 'Title set by the program' } });
  const linkStatus = h('span', { class: 'link-status', attrs: { id: 'link-status', role: 'status' } });
  const banner = h('p', { class: 'notice', attrs: { id: 'session-banner', hidden: '' } });
  const termHost = h('div', { class: 'term', attrs: { id: 'terminal' } });

  const readOnlyBox = h('input', { attrs: { type: 'checkbox', id: 'read-only' } });
  const interruptBtn = h('button', { attrs: { type: 'button', id: 'btn-interrupt', title: 'Send the profile\u2019s interrupt (Ctrl-C)' } }, 'Interrupt');
  const killBtn = h('button', { class: 'danger', attrs: { type: 'button', id: 'btn-kill' } }, 'Kill');
  const keySelect = h('select', { attrs: { id: 'send-key', 'aria-label': 'Key to send' } }, ...SEND_KEYS.map((k) => h('option', { attrs: { value: k } }, k)));
  const keyBtn = h('button', { attrs: { type: 'button', id: 'btn-send-key' } }, 'Send key');
  const textInput = h('input', { attrs: { id: 'send-text', placeholder: 'Text to send (Enter submits)', 'aria-label': 'Text to send', spellcheck: 'false' } });

  const question = h('section', { class: 'question', attrs: { id: 'question', hidden: '', 'aria-live': 'polite', 'aria-labelledby': 'question-h' } });

  const timelineList = h('ol', { class: 'timeline', attrs: { id: 'timeline' } });
  const commandsBody = h('tbody', { attrs: { id: 'commands' } });
  const searchInput = h('input', { attrs: { id: 'search-input', type: 'search', placeholder: 'Search output (regex)', 'aria-label': 'Search output', spellcheck: 'false' } });
  const searchInfo = h('p', { class: 'sub', attrs: { id: 'search-info', role: 'status' } });
  const searchResults = h('ol', { class: 'search-results', attrs: { id: 'search-results' } });

  const tabs = renderTabs([
    { id: 'timeline', label: 'Timeline', body: [timelineList] },
    { id: 'commands', label: 'Commands', body: [h('table', { class: 'commands' }, h('thead', {}, h('tr', {}, ...['#', 'Command', 'Exit', 'Time'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))), commandsBody)] },
    {
      id: 'search',
      label: 'Search',
      body: [h('form', { class: 'search-form', attrs: { id: 'search-form' } }, searchInput, h('button', { attrs: { type: 'submit' } }, 'Find')), searchInfo, searchResults],
    },
  ]);

  replaceChildren(
    root,
    h('nav', { class: 'crumbs' }, h('a', { attrs: { href: '#/' } }, '← Sessions')),
    h('header', { class: 'session-head' }, h('div', { class: 'title-row' }, badgeSlot, titleEl, linkStatus), meta),
    banner,
    h('section', { class: 'controls', attrs: { 'aria-label': 'Session controls' } },
      interruptBtn, killBtn,
      h('span', { class: 'group' }, keySelect, keyBtn),
      h('span', { class: 'group grow' }, textInput),
      h('label', { class: 'switch' }, readOnlyBox, h('span', {}, 'Read-only')),
    ),
    question,
    h('div', { class: 'session-main' },
      h('div', { class: 'term-wrap' }, h('div', { class: 'term-bar' }, termTitle), termHost),
      h('aside', { class: 'side panel' }, tabs.root),
    ),
  );

  // ---- the terminal --------------------------------------------------------------------------------------
  const term = new Terminal({
    scrollback: SCROLLBACK_LINES,
    cursorBlink: true,
    fontSize: 13,
    fontFamily: '"DejaVu Sans Mono", "Menlo", "Consolas", ui-monospace, monospace',
    convertEol: session?.kind === 'pipe',
    theme: { background: '#0d1117', foreground: '#d6deeb', cursor: '#7fdbca', selectionBackground: '#2f4f6f' },
    // OSC 8 links: opened only by a click, only http(s), in a new tab that cannot reach back to us.
    linkHandler: { activate: (event, uri) => openLink(event, uri), allowNonHttpProtocols: false },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(termHost);
  disposer.add(term);
  // OSC 52 (clipboard write): xterm.js core has no handler (only the separate clipboard addon does), but a
  // handler that claims the sequence guarantees nothing later in the chain ever acts on it.
  disposer.add(term.parser.registerOscHandler(52, () => true));
  disposer.add(term.onTitleChange((title) => (termTitle.textContent = title)));

  const since = session === undefined ? 0 : Math.max(session.output.firstAvailableOffset, session.output.totalBytes - INITIAL_REPLAY_BYTES);
  const connection = new TerminalConnection(id, since, false, {
    onOutput: (data, done) => term.write(data, done),
    onState: (change) => {
      if (change.session !== undefined) session = change.session;
      else if (session !== undefined) session = { ...session, state: change.state, stateReason: change.reason, stateSource: change.source };
      renderHead();
      scheduleHistory();
      void updateQuestion();
      void live.refresh(id);
    },
    onExit: (exit) => {
      if (session !== undefined) session = { ...session, state: 'terminated', exit };
      renderHead();
      showEnded(exit);
      scheduleHistory();
      void live.refresh(id);
    },
    onGap: (from, to) => term.write(`\r\n\x1b[33m[${to - from} bytes of older output are no longer available]\x1b[0m\r\n`),
    onStatus: (status, detail) => showLink(status, detail),
  });
  disposer.add(connection);

  disposer.add(term.onData((data) => connection.send({ type: 'input', data })));
  disposer.add(term.onBinary((data) => connection.send({ type: 'input', data })));
  disposer.add(term.onResize(({ cols, rows }) => sendSize(cols, rows)));

  function sendSize(cols: number, rows: number): void {
    // A pipe session has no terminal: the daemon refuses its resize.
    if (!connection.isReadOnly && session?.kind !== 'pipe') connection.send({ type: 'resize', cols, rows });
  }

  let resizeTimer: number | null = null;
  const observer = new ResizeObserver(() => {
    if (resizeTimer !== null) window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      resizeTimer = null;
      fitNow();
    }, RESIZE_DEBOUNCE_MS);
  });
  observer.observe(termHost);
  disposer.add(() => {
    observer.disconnect();
    if (resizeTimer !== null) window.clearTimeout(resizeTimer);
  });

  function fitNow(): void {
    // A hidden or zero-sized host (phone rotating, tab in background) gives nonsense dimensions.
    if (termHost.clientWidth < 20 || termHost.clientHeight < 20) return;
    fit.fit();
  }

  function showLink(status: LinkStatus, detail: string): void {
    const text: Record<LinkStatus, string> = {
      connecting: 'connecting…',
      live: connection.isReadOnly ? '● live (read-only)' : '● live',
      reconnecting: `reconnecting… ${detail}`,
      ended: 'ended',
      refused: `not connected: ${detail}`,
    };
    linkStatus.textContent = text[status];
    linkStatus.className = `link-status link-${status}`;
    // Every (re)attach: tell the program our size, in case it changed while we were away.
    if (status === 'live') sendSize(term.cols, term.rows);
  }

  // ---- header and controls -------------------------------------------------------------------------------
  function renderHead(): void {
    if (session === undefined) {
      titleEl.textContent = id;
      return;
    }
    replaceChildren(badgeSlot, stateBadge(session.state));
    titleEl.textContent = sessionTitle(session);
    const parts = [
      session.profile,
      session.kind,
      session.pid === null ? null : `pid ${session.pid}`,
      session.taskId === null ? null : `task ${session.taskId}`,
      session.cwd,
      `${session.cols}×${session.rows}`,
      `started ${age(session.createdAt)} ago`,
      session.exit === null ? null : exitText(session.exit),
    ].filter((p): p is string => p !== null);
    meta.textContent = parts.join(' · ');
    meta.title = session.command.join(' ');
    const ended = session.state === 'terminated' || session.state === 'terminating';
    for (const control of [interruptBtn, killBtn, keyBtn, textInput, keySelect]) control.disabled = ended;
    if (session.exit !== null) showEnded(session.exit);
  }

  function showEnded(exit: ExitInfo): void {
    banner.textContent = `Session ended: ${exitText(exit)}.`;
    banner.hidden = false;
    term.options.disableStdin = true;
    question.hidden = true;
  }

  readOnlyBox.addEventListener('change', () => {
    connection.setReadOnly(readOnlyBox.checked);
    term.options.disableStdin = readOnlyBox.checked || session?.state === 'terminated';
    textInput.disabled = readOnlyBox.checked;
    keyBtn.disabled = readOnlyBox.checked;
  });

  const act = (label: string, action: () => Promise<unknown>): void => {
    action().then(
      () => void live.refresh(id),
      (error: unknown) => flash(error instanceof ApiError ? `${label}: ${error.message}` : `${label}: ${String(error)}`),
    );
  };
  interruptBtn.addEventListener('click', () => act('Interrupt', () => sessionsApi.interrupt(id)));
  let killArmed: number | null = null;
  killBtn.addEventListener('click', () => {
    if (killArmed === null) {
      killBtn.textContent = 'Really kill?';
      killBtn.classList.add('armed');
      killArmed = window.setTimeout(disarm, KILL_CONFIRM_MS);
      return;
    }
    disarm();
    killBtn.disabled = true;
    act('Kill', () => sessionsApi.kill(id));
  });
  function disarm(): void {
    if (killArmed !== null) window.clearTimeout(killArmed);
    killArmed = null;
    killBtn.textContent = 'Kill';
    killBtn.classList.remove('armed');
  }
  disposer.add(disarm);
  keyBtn.addEventListener('click', () => act('Send key', () => sessionsApi.input(id, { keys: [keySelect.value] })));
  textInput.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const data = textInput.value;
    textInput.value = '';
    act('Send', () => sessionsApi.input(id, { data, keys: ['Enter'] }));
  });

  function flash(text: string): void {
    banner.textContent = text;
    banner.hidden = false;
    banner.classList.add('error');
  }

  // ---- pending question (waiting_input) ------------------------------------------------------------------
  async function updateQuestion(): Promise<void> {
    if (session?.state !== 'waiting_input') {
      question.hidden = true;
      return;
    }
    let lines: string[] = [];
    try {
      lines = (await sessionsApi.screen(id)).lines;
    } catch (error) {
      // Pipe sessions have no screen; the question is then whatever the terminal shows.
      console.warn('no screen for the question', error);
    }
    const shown = trimBlank(lines).slice(-QUESTION_LINES);
    // A dialog's numbered options ("❯ 1. Yes, proceed") become buttons that answer through the daemon, which
    // checks the dialog is still there; anything else gets plain keys.
    const options = shown.flatMap((line) => {
      const match = DIALOG_OPTION.exec(line);
      return match?.[1] !== undefined && match[2] !== undefined ? [{ choice: Number(match[1]), label: match[2].trim() }] : [];
    });
    const buttons = options.length > 0
      ? options.map((option) => h('button', { class: 'answer', attrs: { type: 'button' }, on: { click: () => act('Answer', () => sessionsApi.answer(id, option.choice)) } }, `${option.choice}. ${option.label}`))
      : ANSWER_KEYS.map((answer) =>
        h('button', { class: 'answer', attrs: { type: 'button' }, on: { click: () => act('Answer', () => sessionsApi.input(id, { data: answer.data, keys: answer.keys })) } }, answer.label));
    replaceChildren(question,
      h('h3', { attrs: { id: 'question-h' } }, 'The program is waiting for an answer'),
      h('p', { class: 'sub' }, session.stateReason),
      h('pre', { class: 'screen' }, shown.join('\n')),
      h('div', { class: 'answers' }, ...buttons),
    );
    question.hidden = false;
  }

  // ---- timeline and commands -----------------------------------------------------------------------------
  let historyTimer: number | null = null;
  function scheduleHistory(): void {
    if (historyTimer !== null) return;
    historyTimer = window.setTimeout(() => {
      historyTimer = null;
      void loadHistory();
    }, HISTORY_REFRESH_MS);
  }
  disposer.add(() => {
    if (historyTimer !== null) window.clearTimeout(historyTimer);
  });

  async function loadHistory(): Promise<void> {
    const [events, commands] = await Promise.allSettled([sessionsApi.events(id), sessionsApi.commands(id)]);
    if (disposer.isDisposed) return;
    if (events.status === 'fulfilled') renderTimeline(events.value.events);
    if (commands.status === 'fulfilled') renderCommands(commands.value.commands);
  }

  function renderTimeline(events: StateEvent[]): void {
    replaceChildren(timelineList, ...events.map((event) =>
      h('li', {},
        h('time', { attrs: { datetime: event.at, title: event.at } }, shortTime(event.at)),
        h('span', { class: 'transition' }, event.from === null ? '' : `${label(event.from)} → `, stateBadge(event.to)),
        h('span', { class: `source source-${event.source}` }, event.source),
        h('span', { class: 'reason' }, event.reason),
      )));
    if (events.length === 0) replaceChildren(timelineList, h('li', { class: 'empty' }, 'No state changes yet.'));
  }

  function renderCommands(commands: CommandRecord[]): void {
    replaceChildren(commandsBody, ...commands.map((command) =>
      h('tr', {},
        h('td', {}, String(command.seq)),
        h('td', { class: 'cmd' }, h('code', {}, command.text)),
        h('td', { class: command.exitCode === 0 ? 'ok' : command.exitCode === null ? '' : 'bad' }, command.exitCode === null ? (command.endedAt === null ? 'running' : '—') : String(command.exitCode)),
        h('td', {}, command.timedOut ? 'timed out' : duration(command.durationMs)),
      )));
    if (commands.length === 0) replaceChildren(commandsBody, h('tr', { class: 'empty' }, h('td', { attrs: { colspan: '4' } }, 'No commands recorded.')));
  }

  // ---- search --------------------------------------------------------------------------------------------
  let hits: { line: number; col: number; length: number }[] = [];
  let current = -1;
  const searchForm = tabs.root.querySelector('#search-form');
  searchForm?.addEventListener('submit', (event) => {
    event.preventDefault();
    if (hits.length > 0 && searchInput.dataset.query === searchInput.value) jump((current + 1) % hits.length);
    else runSearch();
  });

  function runSearch(): void {
    const query = searchInput.value;
    searchInput.dataset.query = query;
    let pattern: RegExp;
    try {
      pattern = new RegExp(query, 'gi');
    } catch (error) {
      searchInfo.textContent = `Not a valid pattern: ${(error as Error).message}`;
      return;
    }
    hits = [];
    current = -1;
    replaceChildren(searchResults);
    if (query === '') {
      searchInfo.textContent = '';
      return;
    }
    const buffer = term.buffer.active;
    for (let line = 0; line < buffer.length && hits.length < MAX_SEARCH_RESULTS * 10; line++) {
      const text = buffer.getLine(line)?.translateToString(true) ?? '';
      for (const match of text.matchAll(pattern)) {
        if (match[0].length === 0) break;
        hits.push({ line, col: match.index, length: match[0].length });
      }
    }
    searchInfo.textContent = 'Searching…';
    // The daemon searches everything it kept (memory and disk), beyond the terminal's scrollback.
    sessionsApi.search(id, query, MAX_SEARCH_RESULTS).then(
      (reply) => showServerHits(reply.matches, reply.truncated),
      (error: unknown) => {
        // An older daemon without the search route, or a pattern it refuses: the scrollback is what we have.
        if (!(error instanceof ApiError)) console.warn('search failed', error);
        showBufferHits();
      },
    );
  }

  function showBufferHits(): void {
    const buffer = term.buffer.active;
    const listed = hits.slice(0, MAX_SEARCH_RESULTS);
    searchInfo.textContent = hits.length === 0 ? 'No match in the terminal\u2019s scrollback.' : `${hits.length} match${hits.length === 1 ? '' : 'es'} in the scrollback. Enter jumps to the next.`;
    replaceChildren(searchResults, ...listed.map((hit, index) => {
      const text = buffer.getLine(hit.line)?.translateToString(true) ?? '';
      return hitItem(index, `${hit.line + 1}`, text, hit.col, hit.length);
    }));
    if (hits.length > 0) jump(0);
  }

  function showServerHits(matches: { match: string; line: string }[], truncated: boolean): void {
    // The terminal holds the newest matches; align both lists at their ends. A truncated reply is the oldest N,
    // which cannot be aligned: list the scrollback's hits instead.
    if (truncated) {
      showBufferHits();
      searchInfo.textContent += ' (The full output has more matches than can be listed.)';
      return;
    }
    const shift = matches.length - hits.length;
    searchInfo.textContent =
      matches.length === 0 ? 'No match in the session\u2019s output.' : `${matches.length} match${matches.length === 1 ? '' : 'es'} in the output${shift > 0 ? `, ${shift} older than the terminal\u2019s scrollback` : ''}. Enter jumps to the next.`;
    replaceChildren(searchResults, ...matches.map((found, index) => {
      const at = found.line.toLowerCase().indexOf(found.match.toLowerCase());
      const item = hitItem(index - shift, `#${index + 1}`, found.line, Math.max(0, at), at < 0 ? 0 : found.match.length);
      if (index < shift) {
        const button = item.querySelector('button');
        if (button !== null) {
          button.disabled = true;
          button.title = 'Older than the terminal\u2019s scrollback';
        }
      }
      return item;
    }));
    if (hits.length > 0) jump(Math.max(0, hits.length - 1));
  }

  function hitItem(index: number, where: string, text: string, col: number, length: number): HTMLLIElement {
    const start = Math.max(0, col - 30);
    return h('li', {}, h('button', { class: 'hit', attrs: { type: 'button', 'data-index': String(index) }, on: { click: () => jump(index) } },
      h('span', { class: 'line-no' }, where),
      text.slice(start, col), h('mark', {}, text.slice(col, col + length)), text.slice(col + length, col + length + 40)));
  }

  function jump(index: number): void {
    const hit = hits[index];
    if (hit === undefined) return;
    current = index;
    term.scrollToLine(Math.max(0, hit.line - Math.floor(term.rows / 2)));
    term.select(hit.col, hit.line, hit.length);
    for (const el of searchResults.querySelectorAll('.hit')) el.classList.toggle('current', el.getAttribute('data-index') === String(index));
  }

  // ---- start ---------------------------------------------------------------------------------------------
  window.corralTerminal = {
    sessionId: id,
    text: () => bufferText(term),
    nextOffset: () => connection.nextOffset,
    bytesShown: () => connection.bytesShown,
    connects: () => connection.connects,
    drop: () => connection.drop(),
    size: () => ({ cols: term.cols, rows: term.rows }),
    selection: () => term.getSelection(),
  };
  disposer.add(() => {
    if (window.corralTerminal?.sessionId === id) delete window.corralTerminal;
  });

  renderHead();
  fitNow();
  const start = (): void => {
    renderHead();
    if (session?.state === 'terminated' && session.exit !== null) showEnded(session.exit);
    connection.connect();
    void loadHistory();
    void updateQuestion();
  };
  if (session === undefined) {
    // Opened by URL before the list loaded: read the session first so the replay starts at the right offset.
    sessionsApi.get(id).then(
      (info) => {
        session = info;
        term.options.convertEol = info.kind === 'pipe';
        connection.startAt(Math.max(info.output.firstAvailableOffset, info.output.totalBytes - INITIAL_REPLAY_BYTES));
        start();
      },
      (error: unknown) => {
        flash(error instanceof ApiError ? error.message : String(error));
        showLink('refused', 'unknown session');
      },
    );
  } else {
    start();
  }
  window.setTimeout(() => term.focus(), 0);
  return disposer;
}

function label(state: SessionState): string {
  return state.replace('_', ' ');
}

function trimBlank(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
  return lines.slice(0, end);
}

function bufferText(term: Terminal): string {
  const buffer = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (line === undefined) continue;
    const text = line.translateToString(true);
    // A wrapped line continues the previous one: join them so long lines read as one.
    if (line.isWrapped && out.length > 0) out[out.length - 1] += text;
    else out.push(text);
  }
  return out.join('\n').replace(/\s+$/, '');
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

interface Tab {
  id: string;
  label: string;
  body: HTMLElement[];
}

/** Accessible tabs: arrow keys move between them (WAI-ARIA tabs pattern). */
function renderTabs(tabs: Tab[]): { root: HTMLElement } {
  const list = h('div', { class: 'tabs', attrs: { role: 'tablist' } });
  const panels: HTMLElement[] = [];
  const buttons: HTMLButtonElement[] = [];
  const select = (index: number, focus: boolean): void => {
    buttons.forEach((button, i) => {
      button.setAttribute('aria-selected', String(i === index));
      button.tabIndex = i === index ? 0 : -1;
      const panel = panels[i];
      if (panel !== undefined) panel.hidden = i !== index;
    });
    if (focus) buttons[index]?.focus();
  };
  tabs.forEach((tab, index) => {
    const button = h('button', { class: 'tab', attrs: { type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}` } }, tab.label);
    button.addEventListener('click', () => select(index, false));
    button.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowRight') select((index + 1) % tabs.length, true);
      if (event.key === 'ArrowLeft') select((index + tabs.length - 1) % tabs.length, true);
    });
    buttons.push(button);
    list.appendChild(button);
    panels.push(h('div', { class: 'tab-panel', attrs: { role: 'tabpanel', id: `panel-${tab.id}`, 'aria-labelledby': `tab-${tab.id}` } }, ...tab.body));
  });
  select(0, false);
  return { root: h('div', {}, list, ...panels) };
}
