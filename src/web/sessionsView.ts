// The sessions view: the attention queue first (sessions that need a person), then every live session as a row
// that says what matters (short command, state and its age, CPU and memory, last output line, kill), filters by
// state/profile/task/label, the form that creates a session, and the ended sessions a page at a time.
// Must show caller-supplied names, cwds, commands and program output as text only.

import { SESSION_STATES, type SessionInfo } from '../protocol/sessionTypes.js';
import { ApiError, sessionsApi, type Catalog } from './api.js';
import { AttentionQueue } from './attention.js';
import { renameButton } from './rename.js';
import { Disposer, h, replaceChildren, type Disposable } from './dom.js';
import { age, exitText, nodeBadge, sessionTitle, shortCommand, splitArgv, stateBadge, usageText } from './format.js';
import type { LiveSessions } from './liveSessions.js';

/** Ages re-render this often so "12s" keeps counting without new events. */
const AGE_TICK_MS = 5000;
/** CPU and memory are sampled by the daemon without an event: the list is re-read this often to show them. */
const USAGE_REFRESH_MS = 10_000;
/** Ended sessions shown per page ("Show older" adds a page). */
const ENDED_PAGE = 20;
/** Live rows whose last output line is kept fresh (the first ones shown). */
const LAST_LINE_ROWS = 40;
/** A row's last output line is read again at most this often, however fast its output grows. */
const LAST_LINE_MIN_MS = 4000;
/** The kill button asks for a second click within this time. */
const KILL_CONFIRM_MS = 4000;

interface Filters {
  state: string;
  profile: string;
  task: string;
  label: string;
}

/** `labels` matches `key=value` (or just `key`, or a value) of any label, case-insensitively. */
function labelMatches(labels: Record<string, string>, wanted: string): boolean {
  const lower = wanted.toLowerCase();
  return Object.entries(labels).some(([key, value]) => `${key}=${value}`.toLowerCase().includes(lower));
}

export function sessionMatches(session: SessionInfo, filters: Filters): boolean {
  if (filters.state !== '' && session.state !== filters.state) return false;
  if (filters.profile !== '' && session.profile !== filters.profile) return false;
  if (filters.task !== '' && !(session.taskId ?? '').toLowerCase().includes(filters.task.toLowerCase())) return false;
  if (filters.label !== '' && !labelMatches(session.labels, filters.label)) return false;
  return true;
}

export function renderSessionsView(root: HTMLElement, live: LiveSessions, navigate: (hash: string) => void): Disposable {
  const disposer = new Disposer();
  const filters: Filters = { state: '', profile: '', task: '', label: '' };
  let catalog: Catalog = { profiles: [], templates: [] };
  let endedShown = ENDED_PAGE;
  /** The last output line of each live session, and the output size it was read at. */
  const lastLines = new Map<string, { at: number; readAt: number; text: string }>();

  const stateSelect = h('select', { attrs: { id: 'filter-state', 'aria-label': 'Filter by state' } },
    h('option', { attrs: { value: '' } }, 'All states'),
    ...SESSION_STATES.map((s) => h('option', { attrs: { value: s } }, s.replace('_', ' '))),
  );
  const profileSelect = h('select', { attrs: { id: 'filter-profile', 'aria-label': 'Filter by profile' } }, h('option', { attrs: { value: '' } }, 'All profiles'));
  const taskInput = h('input', { attrs: { id: 'filter-task', type: 'search', placeholder: 'Task…  ( / )', 'aria-label': 'Filter by task', spellcheck: 'false' } });
  const labelInput = h('input', { attrs: { id: 'filter-label', type: 'search', placeholder: 'Label (key=value)…', 'aria-label': 'Filter by label', spellcheck: 'false' } });
  const streamNote = h('span', { class: 'stream-note', attrs: { id: 'stream-mode', role: 'status' } });
  const liveBody = h('tbody');
  const endedBody = h('tbody');
  const liveCount = h('span', { class: 'count' });
  const endedCount = h('span', { class: 'count' });
  const errorLine = h('p', { class: 'notice error', attrs: { role: 'alert', hidden: '' } });
  const moreEnded = h('button', { attrs: { type: 'button', id: 'ended-more' } }, 'Show older');
  moreEnded.addEventListener('click', () => ((endedShown += ENDED_PAGE), render()));
  const attention = new AttentionQueue(live, navigate);
  disposer.add(attention);

  stateSelect.addEventListener('change', () => ((filters.state = stateSelect.value), render()));
  profileSelect.addEventListener('change', () => ((filters.profile = profileSelect.value), render()));
  taskInput.addEventListener('input', () => ((filters.task = taskInput.value.trim()), render()));
  labelInput.addEventListener('input', () => ((filters.label = labelInput.value.trim()), render()));
  disposer.listen(document, 'keydown', (event) => {
    // "/" jumps to the filter, as on most list pages; not while typing somewhere.
    const target = event.target as HTMLElement | null;
    if (event.key === '/' && target !== null && !['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) {
      event.preventDefault();
      taskInput.focus();
    }
  });

  const table = (body: HTMLTableSectionElement, caption: string, columns: string[], tableClass: string): HTMLTableElement =>
    h('table', { class: `sessions ${tableClass}` },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, ...columns.map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
      body,
    );

  const createPanel = renderCreateForm(() => catalog, async (body) => {
    const session = await sessionsApi.create(body);
    await live.refresh(session.id);
    navigate(`#/s/${session.id}`);
  });

  replaceChildren(
    root,
    attention.element,
    h('section', { class: 'toolbar', attrs: { 'aria-label': 'Filters' } }, stateSelect, profileSelect, taskInput, labelInput,
      h('a', { class: 'button-link', attrs: { href: '#/grid', id: 'open-grid' } }, 'Grid view'), streamNote),
    errorLine,
    createPanel,
    h('section', { class: 'panel', attrs: { id: 'live-sessions', 'aria-labelledby': 'live-h' } },
      h('h2', { attrs: { id: 'live-h' } }, 'Live sessions ', liveCount),
      table(liveBody, 'Live sessions', ['State', 'Session', 'Profile', 'Task', 'CPU · memory', 'Last output', ''], 'live')),
    h('section', { class: 'panel', attrs: { id: 'ended-sessions', 'aria-labelledby': 'ended-h' } },
      h('h2', { attrs: { id: 'ended-h' } }, 'Ended ', endedCount),
      table(endedBody, 'Ended sessions', ['State', 'Session', 'Profile', 'Task', 'Ended', 'Exit', ''], 'ended'),
      moreEnded),
  );

  function stateCell(session: SessionInfo): HTMLTableCellElement {
    const since = live.stateSince.get(session.id);
    // An ended row says when it ended in its own column.
    const known = since?.state === session.state && session.state !== 'terminated' ? since.at : null;
    return h('td', { class: 'state', attrs: { 'data-label': 'State' } }, stateBadge(session.state),
      known === null ? null : h('span', { class: 'state-age', attrs: { title: `since ${known}`, 'data-live': 'time' } }, age(known)));
  }

  function nameCell(session: SessionInfo): HTMLTableCellElement {
    const link = h('a', { attrs: { href: `#/s/${session.id}` } }, sessionTitle(session));
    const node = nodeBadge(session);
    return h('td', { class: 'name', attrs: { 'data-label': 'Session' } }, link, ...(node === null ? [] : [' ', node]),
      h('div', { class: 'sub mono', attrs: { title: session.command.join(' ') } }, shortCommand(session)));
  }

  /** Kill buttons waiting for their confirming click, by session (rows are re-drawn meanwhile). */
  const armedKills = new Map<string, number>();
  disposer.add(() => armedKills.forEach((timer) => window.clearTimeout(timer)));

  function killButton(session: SessionInfo): HTMLButtonElement {
    const armed = armedKills.has(session.id);
    const button = h('button', { class: armed ? 'danger small armed' : 'danger small', attrs: { type: 'button', 'data-kill': session.id, 'aria-label': `Kill ${sessionTitle(session)}` } }, armed ? 'Really?' : 'Kill');
    button.addEventListener('click', () => {
      const timer = armedKills.get(session.id);
      if (timer === undefined) {
        armedKills.set(session.id, window.setTimeout(() => (armedKills.delete(session.id), render()), KILL_CONFIRM_MS));
        render();
        return;
      }
      window.clearTimeout(timer);
      armedKills.delete(session.id);
      button.disabled = true;
      sessionsApi.kill(session.id).then(
        () => void live.refresh(session.id),
        (error: unknown) => showError(`Kill: ${error instanceof ApiError ? error.message : String(error)}`),
      );
    });
    return button;
  }

  function liveRow(session: SessionInfo): HTMLTableRowElement {
    const last = lastLines.get(session.id)?.text ?? '';
    return h('tr', { attrs: { 'data-session-id': session.id } },
      stateCell(session),
      nameCell(session),
      h('td', { attrs: { 'data-label': 'Profile' } }, session.profile),
      h('td', { attrs: { 'data-label': 'Task' } }, session.taskId ?? '—'),
      h('td', { class: 'usage', attrs: { 'data-label': 'CPU · memory' } }, usageText(session)),
      h('td', { class: 'last-line mono', attrs: { 'data-label': 'Last output', title: last, 'data-live': 'output' } }, last),
      h('td', { class: 'row-actions' }, renameButton(session, (renamed) => void live.refresh(renamed.id), showError), ' ', killButton(session)),
    );
  }

  function endedRow(session: SessionInfo): HTMLTableRowElement {
    const exit = exitText(session.exit);
    const remove = h('button', {
      class: 'small',
      attrs: {
        type: 'button',
        'data-remove': session.id,
        'aria-label': `Remove ${sessionTitle(session)}`,
        title: 'Remove this ended session for good: its record, history, events and output',
      },
    }, 'Remove');
    remove.addEventListener('click', () => {
      remove.disabled = true;
      sessionsApi.purge(session.id).then(
        () => live.forget(session.id),
        (error: unknown) => {
          remove.disabled = false;
          showError(`Remove: ${error instanceof ApiError ? error.message : String(error)}`);
        },
      );
    });
    return h('tr', { attrs: { 'data-session-id': session.id } },
      stateCell(session),
      nameCell(session),
      h('td', { attrs: { 'data-label': 'Profile' } }, session.profile),
      h('td', { attrs: { 'data-label': 'Task' } }, session.taskId ?? '—'),
      h('td', { class: 'ended-at', attrs: { 'data-label': 'Ended', 'data-live': 'time' } }, session.endedAt === null ? '—' : `${age(session.endedAt)} ago`),
      // No empty "Exit:" label on a phone: a session without exit information shows a dash.
      h('td', { class: 'exit', attrs: { 'data-label': 'Exit' } }, exit === '' ? '—' : exit),
      h('td', { class: 'row-actions' }, remove),
    );
  }

  function showError(text: string): void {
    errorLine.textContent = text;
    errorLine.hidden = false;
  }

  /** Reads the last output line of live rows whose output grew since the last read. */
  function refreshLastLines(rows: SessionInfo[]): void {
    for (const session of rows.slice(0, LAST_LINE_ROWS)) {
      const total = session.output.totalBytes;
      const known = lastLines.get(session.id);
      if (known !== undefined && (known.at === total || performance.now() - known.readAt < LAST_LINE_MIN_MS)) continue;
      lastLines.set(session.id, { at: total, readAt: performance.now(), text: known?.text ?? '' });
      const read = session.kind === 'pty'
        ? sessionsApi.screen(session.id).then((screen) => screen.lines)
        : sessionsApi.lines(session.id, Math.max(session.output.firstAvailableOffset, total - 4096)).then((reply) => reply.lines.map((l) => l.text));
      read.then(
        (lines) => {
          const text = [...lines].reverse().find((line) => line.trim() !== '')?.trim() ?? '';
          lastLines.set(session.id, { at: total, readAt: performance.now(), text });
          const cell = liveBody.querySelector(`tr[data-session-id="${CSS.escape(session.id)}"] td.last-line`);
          if (cell !== null) {
            cell.textContent = text;
            cell.setAttribute('title', text);
          }
        },
        (error: unknown) => console.warn('no last line', error),
      );
    }
  }

  function render(): void {
    const all = [...live.sessions.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const seenProfiles = new Set([...catalog.profiles.map((p) => p.name), ...all.map((s) => s.profile)]);
    if (profileSelect.options.length - 1 !== seenProfiles.size) {
      const chosen = profileSelect.value;
      replaceChildren(profileSelect, h('option', { attrs: { value: '' } }, 'All profiles'), ...[...seenProfiles].sort().map((p) => h('option', { attrs: { value: p } }, p)));
      profileSelect.value = chosen;
    }
    const shown = all.filter((s) => sessionMatches(s, filters));
    const liveRows = shown.filter((s) => s.state !== 'terminated');
    const endedRows = shown.filter((s) => s.state === 'terminated').sort((a, b) => (b.endedAt ?? '').localeCompare(a.endedAt ?? ''));
    // Not while a name is being typed in a row: the redraw would take the field away.
    const editing = document.activeElement?.classList.contains('rename-input') === true && liveBody.contains(document.activeElement);
    if (!editing) replaceChildren(liveBody, ...(liveRows.length > 0 ? liveRows.map(liveRow) : [emptyRow(all.length === 0 ? 'No sessions yet: start one above.' : 'No live session matches.')]));
    replaceChildren(endedBody, ...(endedRows.length > 0 ? endedRows.slice(0, endedShown).map(endedRow) : [emptyRow('None.')]));
    moreEnded.hidden = endedRows.length <= endedShown;
    moreEnded.textContent = `Show older (${endedRows.length - Math.min(endedShown, endedRows.length)} more)`;
    liveCount.textContent = String(liveRows.length);
    endedCount.textContent = String(endedRows.length);
    streamNote.textContent = live.mode === 'events' ? '● live' : live.mode === 'polling' ? '◌ polling' : '◌ connecting';
    streamNote.className = `stream-note mode-${live.mode}`;
    if (live.lastError !== null) showError(`Cannot reach the daemon: ${live.lastError}`);
    else errorLine.hidden = true;
    refreshLastLines(liveRows);
  }

  disposer.add(live.onChange(render));
  const tick = window.setInterval(render, AGE_TICK_MS);
  disposer.add(() => window.clearInterval(tick));
  const usageTick = window.setInterval(() => void live.refreshAll(), USAGE_REFRESH_MS);
  disposer.add(() => window.clearInterval(usageTick));
  sessionsApi.catalog().then(
    (loaded) => {
      catalog = loaded;
      createPanel.dispatchEvent(new Event('catalog'));
      render();
    },
    (error: unknown) => console.warn('no profile catalog', error),
  );
  render();
  attention.render();
  return disposer;
}

function emptyRow(text: string): HTMLTableRowElement {
  return h('tr', { class: 'empty' }, h('td', { attrs: { colspan: '7' } }, text));
}

function renderCreateForm(catalog: () => Catalog, create: (body: Record<string, unknown>) => Promise<void>): HTMLElement {
  const source = h('select', { attrs: { id: 'new-source', name: 'source' } });
  const command = h('input', { attrs: { id: 'new-command', name: 'command', placeholder: 'e.g. htop  (optional; no shell)', spellcheck: 'false' } });
  const cwd = h('input', { attrs: { id: 'new-cwd', name: 'cwd', placeholder: 'default: first workspace root', spellcheck: 'false' } });
  const name = h('input', { attrs: { id: 'new-name', name: 'name', placeholder: 'optional' } });
  const task = h('input', { attrs: { id: 'new-task', name: 'taskId', placeholder: 'optional' } });
  const status = h('p', { class: 'form-status', attrs: { role: 'status' } });
  const submit = h('button', { class: 'primary', attrs: { type: 'submit', id: 'new-submit' } }, 'Start session');

  const fillSources = (): void => {
    const { profiles, templates } = catalog();
    const names = profiles.length > 0 ? profiles.map((p) => p.name) : ['shell', 'command'];
    replaceChildren(source,
      h('optgroup', { attrs: { label: 'Profiles' } }, ...names.map((p) => h('option', { attrs: { value: `profile:${p}` } }, p))),
      templates.length > 0 ? h('optgroup', { attrs: { label: 'Templates' } }, ...templates.map((t) => h('option', { attrs: { value: `template:${t.name}` } }, t.name))) : null,
    );
    source.value = 'profile:shell';
  };
  fillSources();

  const form = h('form', { class: 'create-form', attrs: { id: 'new-session', autocomplete: 'off' } },
    field('From', source), field('Command', command), field('Working dir', cwd), field('Name', name), field('Task id', task),
    h('div', { class: 'actions' }, submit, status),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const [kind, picked] = splitOnce(source.value, ':');
    let body: Record<string, unknown> = {};
    if (kind === 'template') {
      const template = catalog().templates.find((t) => t.name === picked);
      if (template !== undefined && typeof template.body === 'object' && template.body !== null) body = { ...(template.body as Record<string, unknown>) };
    } else {
      body.profile = picked;
    }
    const argv = splitArgv(command.value);
    if (argv.length > 0) body.command = argv;
    if (cwd.value.trim() !== '') body.cwd = cwd.value.trim();
    if (name.value.trim() !== '') body.name = name.value.trim();
    if (task.value.trim() !== '') body.taskId = task.value.trim();
    submit.disabled = true;
    status.textContent = 'Starting…';
    status.className = 'form-status';
    create(body).then(
      () => {
        status.textContent = '';
        submit.disabled = false;
      },
      (error: unknown) => {
        status.textContent = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
        status.className = 'form-status error';
        submit.disabled = false;
      },
    );
  });

  const panel = h('details', { class: 'panel create', attrs: { id: 'create-panel' } }, h('summary', {}, 'New session'), form);
  panel.addEventListener('catalog', fillSources);
  return panel;
}

function field(label: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

function splitOnce(text: string, sep: string): [string, string] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}
