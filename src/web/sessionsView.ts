// The sessions view: every session with its live state badge, filters by state/profile/task, the form that
// creates a session from a profile or a template, and the history of ended sessions.
// Must show caller-supplied names, cwds and commands as text only.

import { SESSION_STATES, type SessionInfo } from '../protocol/sessionTypes.js';
import { ApiError, sessionsApi, type Catalog } from './api.js';
import { Disposer, h, replaceChildren, type Disposable } from './dom.js';
import { age, exitText, sessionTitle, splitArgv, stateBadge } from './format.js';
import type { LiveSessions } from './liveSessions.js';

/** Ages re-render this often so "12s" keeps counting without new events. */
const AGE_TICK_MS = 5000;

interface Filters {
  state: string;
  profile: string;
  task: string;
}

export function renderSessionsView(root: HTMLElement, live: LiveSessions, navigate: (hash: string) => void): Disposable {
  const disposer = new Disposer();
  const filters: Filters = { state: '', profile: '', task: '' };
  let catalog: Catalog = { profiles: [], templates: [] };

  const stateSelect = h('select', { attrs: { id: 'filter-state', 'aria-label': 'Filter by state' } },
    h('option', { attrs: { value: '' } }, 'All states'),
    ...SESSION_STATES.map((s) => h('option', { attrs: { value: s } }, s.replace('_', ' '))),
  );
  const profileSelect = h('select', { attrs: { id: 'filter-profile', 'aria-label': 'Filter by profile' } }, h('option', { attrs: { value: '' } }, 'All profiles'));
  const taskInput = h('input', { attrs: { id: 'filter-task', type: 'search', placeholder: 'Task…  ( / )', 'aria-label': 'Filter by task', spellcheck: 'false' } });
  const streamNote = h('span', { class: 'stream-note', attrs: { id: 'stream-mode', role: 'status' } });
  const liveBody = h('tbody');
  const endedBody = h('tbody');
  const liveCount = h('span', { class: 'count' });
  const endedCount = h('span', { class: 'count' });
  const errorLine = h('p', { class: 'notice error', attrs: { role: 'alert', hidden: '' } });

  stateSelect.addEventListener('change', () => ((filters.state = stateSelect.value), render()));
  profileSelect.addEventListener('change', () => ((filters.profile = profileSelect.value), render()));
  taskInput.addEventListener('input', () => ((filters.task = taskInput.value.trim()), render()));
  disposer.listen(document, 'keydown', (event) => {
    // "/" jumps to the filter, as on most list pages; not while typing somewhere.
    const target = event.target as HTMLElement | null;
    if (event.key === '/' && target !== null && !['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) {
      event.preventDefault();
      taskInput.focus();
    }
  });

  const table = (body: HTMLTableSectionElement, caption: string): HTMLTableElement =>
    h('table', { class: 'sessions' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, ...['State', 'Session', 'Profile', 'Task', 'Working dir', 'Age', 'Exit'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
      body,
    );

  const createPanel = renderCreateForm(() => catalog, async (body) => {
    const session = await sessionsApi.create(body);
    await live.refresh(session.id);
    navigate(`#/s/${session.id}`);
  });

  replaceChildren(
    root,
    h('section', { class: 'toolbar', attrs: { 'aria-label': 'Filters' } }, stateSelect, profileSelect, taskInput, streamNote),
    errorLine,
    createPanel,
    h('section', { class: 'panel', attrs: { id: 'live-sessions', 'aria-labelledby': 'live-h' } },
      h('h2', { attrs: { id: 'live-h' } }, 'Live sessions ', liveCount), table(liveBody, 'Live sessions')),
    h('section', { class: 'panel', attrs: { id: 'ended-sessions', 'aria-labelledby': 'ended-h' } },
      h('h2', { attrs: { id: 'ended-h' } }, 'Ended ', endedCount), table(endedBody, 'Ended sessions')),
  );

  function matches(session: SessionInfo): boolean {
    if (filters.state !== '' && session.state !== filters.state) return false;
    if (filters.profile !== '' && session.profile !== filters.profile) return false;
    if (filters.task !== '' && !(session.taskId ?? '').toLowerCase().includes(filters.task.toLowerCase())) return false;
    return true;
  }

  function row(session: SessionInfo): HTMLTableRowElement {
    const link = h('a', { attrs: { href: `#/s/${session.id}` } }, sessionTitle(session));
    const command = session.command.join(' ');
    return h('tr', { attrs: { 'data-session-id': session.id } },
      h('td', { attrs: { 'data-label': 'State' } }, stateBadge(session.state)),
      h('td', { class: 'name', attrs: { 'data-label': 'Session' } }, link, h('div', { class: 'sub', attrs: { title: command } }, command)),
      h('td', { attrs: { 'data-label': 'Profile' } }, session.profile),
      h('td', { attrs: { 'data-label': 'Task' } }, session.taskId ?? '—'),
      h('td', { class: 'cwd', attrs: { 'data-label': 'Working dir', title: session.cwd } }, session.cwd),
      h('td', { attrs: { 'data-label': 'Age' } }, age(session.createdAt)),
      h('td', { class: 'exit', attrs: { 'data-label': 'Exit' } }, exitText(session.exit)),
    );
  }

  function render(): void {
    const all = [...live.sessions.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const seenProfiles = new Set([...catalog.profiles.map((p) => p.name), ...all.map((s) => s.profile)]);
    if (profileSelect.options.length - 1 !== seenProfiles.size) {
      const chosen = profileSelect.value;
      replaceChildren(profileSelect, h('option', { attrs: { value: '' } }, 'All profiles'), ...[...seenProfiles].sort().map((p) => h('option', { attrs: { value: p } }, p)));
      profileSelect.value = chosen;
    }
    const shown = all.filter(matches);
    const liveRows = shown.filter((s) => s.state !== 'terminated');
    const endedRows = shown.filter((s) => s.state === 'terminated');
    replaceChildren(liveBody, ...(liveRows.length > 0 ? liveRows.map(row) : [emptyRow(all.length === 0 ? 'No sessions yet: start one above.' : 'No live session matches.')]));
    replaceChildren(endedBody, ...(endedRows.length > 0 ? endedRows.map(row) : [emptyRow('None.')]));
    liveCount.textContent = String(liveRows.length);
    endedCount.textContent = String(endedRows.length);
    streamNote.textContent = live.mode === 'events' ? '● live' : live.mode === 'polling' ? '◌ polling' : '◌ connecting';
    streamNote.className = `stream-note mode-${live.mode}`;
    if (live.lastError !== null) {
      errorLine.textContent = `Cannot reach the daemon: ${live.lastError}`;
      errorLine.hidden = false;
    } else {
      errorLine.hidden = true;
    }
  }

  disposer.add(live.onChange(render));
  const tick = window.setInterval(render, AGE_TICK_MS);
  disposer.add(() => window.clearInterval(tick));
  sessionsApi.catalog().then(
    (loaded) => {
      catalog = loaded;
      createPanel.dispatchEvent(new Event('catalog'));
      render();
    },
    (error: unknown) => console.warn('no profile catalog', error),
  );
  render();
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
