// The attention queue: sessions that need a person (waiting_input, authenticating, error), first, each with what
// it asks (the dialog's question and options, read by the daemon with the profile's patterns), how long it has
// waited, and the agent's last reply; an option answers in place through `answer`. Also the tab title's count
// and the opt-in browser notification when a session starts waiting.
// Everything shown comes from programs and callers: text only.

import type { DialogReply } from '../protocol/apiReplies.js';
import type { SessionInfo, SessionState } from '../protocol/sessionTypes.js';
import { ApiError, sessionsApi } from './api.js';
import { Disposer, h, replaceChildren, type Disposable } from './dom.js';
import { age, sessionTitle, shortCommand, stateBadge } from './format.js';
import type { LiveSessions } from './liveSessions.js';

export const ATTENTION_STATES: readonly SessionState[] = ['waiting_input', 'authenticating', 'error'];
/** A session waiting with no dialog readable yet is asked again this often, this many times (then left as it is). */
const DIALOG_RETRY_MS = 500;
const DIALOG_RETRIES = 10;
/** A reply longer than this is cut in the card (the agent view shows all of it). */
const REPLY_CHARS = 400;

export function needsAttention(session: SessionInfo): boolean {
  return ATTENTION_STATES.includes(session.state);
}

/** What the queue knows of one session's question; `key` is the state it was read in. */
interface Asked {
  key: string;
  attempts: number;
  reply: DialogReply | null;
  error: string | null;
}

export class AttentionQueue implements Disposable {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'attention-list', attrs: { id: 'attention-list' } });
  private readonly count = h('span', { class: 'count' });
  private readonly asked = new Map<string, Asked>();
  private readonly disposer = new Disposer();
  private disposed = false;

  constructor(
    private readonly live: LiveSessions,
    private readonly navigate: (hash: string) => void,
  ) {
    this.element = h('section', { class: 'panel attention', attrs: { id: 'attention', 'aria-labelledby': 'attention-h' } },
      h('div', { class: 'panel-head' },
        h('h2', { attrs: { id: 'attention-h' } }, 'Needs you ', this.count),
        notificationSwitch()),
      this.list);
    this.disposer.add(live.onChange(() => this.render()));
  }

  render(): void {
    const waiting = [...this.live.sessions.values()].filter(needsAttention).sort((a, b) => this.since(a).localeCompare(this.since(b)));
    this.count.textContent = String(waiting.length);
    for (const id of this.asked.keys()) if (!waiting.some((s) => s.id === id)) this.asked.delete(id);
    for (const session of waiting) this.ask(session);
    replaceChildren(this.list, ...(waiting.length > 0 ? waiting.map((s) => this.card(s)) : [h('li', { class: 'empty' }, 'Nothing is waiting for you.')]));
  }

  private since(session: SessionInfo): string {
    const known = this.live.stateSince.get(session.id);
    return known?.state === session.state ? known.at : session.lastActivityAt;
  }

  /** Reads the session's question once per state it is in (and again while its dialog is not drawn yet). */
  private ask(session: SessionInfo): void {
    const key = `${session.state}:${session.stateReason}`;
    const known = this.asked.get(session.id);
    if (known?.key === key) return;
    this.read(session, key, 1);
  }

  private read(session: SessionInfo, key: string, attempts: number): void {
    // A retry keeps what the card shows (the last reply) until the new read answers.
    const previous = this.asked.get(session.id);
    this.asked.set(session.id, { key, attempts, reply: previous?.key === key ? previous.reply : null, error: null });
    sessionsApi.dialog(session.id).then(
      (reply) => {
        const current = this.asked.get(session.id);
        if (current?.key !== key) return;
        current.reply = reply;
        // The state can come a moment before the dialog is drawn (a hook announces it): look again shortly.
        if (reply.dialog === null && session.state === 'waiting_input' && attempts < DIALOG_RETRIES) {
          window.setTimeout(() => this.retry(session, key, attempts), DIALOG_RETRY_MS);
        }
        this.render();
      },
      (error: unknown) => {
        const current = this.asked.get(session.id);
        if (current?.key === key) current.error = error instanceof ApiError ? error.message : String(error);
        this.render();
      },
    );
  }

  private retry(session: SessionInfo, key: string, attempts: number): void {
    const current = this.asked.get(session.id);
    if (this.disposed || current?.key !== key || current.reply?.dialog !== null) return;
    this.read(session, key, attempts + 1);
  }

  private card(session: SessionInfo): HTMLLIElement {
    const asked = this.asked.get(session.id);
    const dialog = asked?.reply?.dialog ?? null;
    const waitedFrom = dialog?.since ?? this.since(session);
    const title = h('a', { attrs: { href: `#/s/${session.id}` } }, sessionTitle(session));
    const body: HTMLElement[] = [];
    if (dialog !== null) {
      body.push(h('p', { class: 'ask' }, dialog.question));
      if (dialog.context.length > 0) body.push(h('pre', { class: 'ask-context' }, dialog.context.join('\n')));
      body.push(h('div', { class: 'answers', attrs: { role: 'group', 'aria-label': `Answers for ${sessionTitle(session)}` } },
        ...dialog.options.map((option) => {
          const label = option.number === null ? option.label : `${option.number}. ${option.label}`;
          const button = h('button', { class: option.selected ? 'answer selected' : 'answer', attrs: { type: 'button', 'data-choice': option.label } }, label);
          button.addEventListener('click', () => this.answer(session, option.number ?? option.label, button));
          return button;
        })));
    } else {
      body.push(h('p', { class: 'ask' }, session.state === 'error' ? `Error: ${session.stateReason}` : session.stateReason));
      body.push(h('div', { class: 'answers' }, h('button', { attrs: { type: 'button' }, on: { click: () => this.navigate(`#/s/${session.id}`) } }, 'Open terminal')));
    }
    const lastReply = asked?.reply?.lastReply ?? null;
    if (lastReply !== null) {
      body.push(h('p', { class: 'last-reply' }, h('span', { class: 'sub' }, 'Last reply: '), lastReply.length > REPLY_CHARS ? lastReply.slice(0, REPLY_CHARS) + '…' : lastReply));
    }
    if (asked?.error != null) body.push(h('p', { class: 'form-status error', attrs: { role: 'alert' } }, asked.error));
    return h('li', { class: 'attention-card', attrs: { 'data-session-id': session.id, 'data-state': session.state } },
      h('div', { class: 'card-head' }, stateBadge(session.state), title,
        h('span', { class: 'sub mono' }, shortCommand(session)),
        h('span', { class: 'waited', attrs: { title: `waiting since ${waitedFrom}`, 'data-live': 'time' } }, `waiting ${age(waitedFrom)}`)),
      ...body);
  }

  private answer(session: SessionInfo, choice: number | string, button: HTMLButtonElement): void {
    const buttons = button.parentElement?.querySelectorAll('button') ?? [];
    for (const b of buttons) b.disabled = true;
    sessionsApi.answer(session.id, choice).then(
      () => void this.live.refresh(session.id),
      (error: unknown) => {
        const asked = this.asked.get(session.id);
        if (asked !== undefined) asked.error = `Answer: ${error instanceof ApiError ? error.message : String(error)}`;
        for (const b of buttons) b.disabled = false;
        this.render();
      },
    );
  }

  dispose(): void {
    this.disposed = true;
    this.disposer.dispose();
  }
}

const NOTIFY_KEY = 'corral.notify';

function notificationsWanted(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_KEY) === '1';
}

/** The opt-in for browser notifications: asks the browser's permission only when the user turns it on. */
function notificationSwitch(): HTMLElement {
  const box = h('input', { attrs: { type: 'checkbox', id: 'notify' } });
  box.checked = notificationsWanted();
  if (typeof Notification === 'undefined') box.disabled = true;
  box.addEventListener('change', () => {
    if (!box.checked) {
      localStorage.setItem(NOTIFY_KEY, '0');
      return;
    }
    void Notification.requestPermission().then((permission) => {
      box.checked = permission === 'granted';
      localStorage.setItem(NOTIFY_KEY, box.checked ? '1' : '0');
    });
  });
  return h('label', { class: 'switch' }, box, h('span', {}, 'Notify me'));
}

/**
 * The tab title counts sessions that need a person ("(2) Sessions · Corral"), and a session that starts waiting
 * raises a notification when the user opted in. Lives as long as the page.
 */
export function watchAttention(live: LiveSessions, title: () => string): void {
  const update = (): void => {
    const waiting = [...live.sessions.values()].filter(needsAttention).length;
    document.title = waiting > 0 ? `(${waiting}) ${title()}` : title();
  };
  live.onChange(update);
  live.onStateEntered((session, previous) => {
    if (!needsAttention(session) || (previous !== undefined && ATTENTION_STATES.includes(previous as SessionState))) return;
    if (!notificationsWanted()) return;
    const note = new Notification(`${sessionTitle(session)} needs you`, { body: `${session.state.replace('_', ' ')}: ${session.stateReason}`, tag: session.id });
    note.onclick = () => {
      window.focus();
      window.location.hash = `#/s/${session.id}`;
    };
  });
  update();
}
