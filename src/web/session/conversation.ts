// The agent view's conversation: the prompts and replies of an agent session (from the CLI's transcript, read by
// the daemon), and a prompt box that submits through `prompt` (bracketed paste, submit, wait for the turn).
// Prompts and replies are the agent's and the user's text: shown as text only.

import type { ConversationTurn } from '../../protocol/apiReplies.js';
import { ApiError, sessionsApi } from '../api.js';
import { h, replaceChildren, type Disposable } from '../dom.js';
import { shortTime } from '../format.js';

/**
 * After a state change or a prompt, the conversation is read again at these delays: the CLI writes its transcript
 * around the turn's end, not always before the state change that announces it.
 */
const SETTLE_READS_MS = [500, 2000, 5000, 10_000];

export class ConversationPanel implements Disposable {
  readonly element: HTMLElement;
  private readonly list = h('ol', { class: 'conversation', attrs: { id: 'conversation', 'aria-live': 'polite' } });
  private readonly source = h('p', { class: 'sub' });
  private readonly input = h('textarea', { attrs: { id: 'prompt-text', rows: '3', placeholder: 'Prompt the agent (Ctrl+Enter sends)', 'aria-label': 'Prompt', spellcheck: 'true' } });
  private readonly send = h('button', { class: 'primary', attrs: { type: 'submit', id: 'prompt-send' } }, 'Send prompt');
  private readonly status = h('p', { class: 'form-status', attrs: { role: 'status', id: 'prompt-status' } });
  private readonly timers = new Set<number>();
  private disposed = false;

  constructor(private readonly sessionId: string) {
    const form = h('form', { class: 'prompt-form', attrs: { id: 'prompt-form' } }, this.input, h('div', { class: 'actions' }, this.send, this.status));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.submit();
      }
    });
    this.element = h('div', { class: 'agent-view' }, this.list, this.source, form);
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (text === '') return;
    this.send.disabled = true;
    this.status.className = 'form-status';
    this.status.textContent = 'Sent; waiting for the turn to end\u2026';
    sessionsApi.prompt(this.sessionId, text).then(
      (reply) => {
        this.input.value = '';
        this.status.textContent = reply.timedOut ? 'The turn is still running.' : reply.state === 'waiting_input' ? 'The agent asks something: answer it above.' : '';
        this.send.disabled = false;
        this.schedule();
      },
      (error: unknown) => {
        this.status.className = 'form-status error';
        this.status.textContent = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
        this.send.disabled = false;
      },
    );
  }

  /** The prompt box is off while the session cannot take a prompt (ended). */
  setEnded(ended: boolean): void {
    this.input.disabled = ended;
    this.send.disabled = ended;
  }

  /** Reads again over the next seconds (a new call replaces the reads still pending). */
  schedule(): void {
    if (this.disposed) return;
    for (const timer of this.timers) window.clearTimeout(timer);
    this.timers.clear();
    for (const delay of SETTLE_READS_MS) {
      const timer = window.setTimeout(() => {
        this.timers.delete(timer);
        void this.load();
      }, delay);
      this.timers.add(timer);
    }
  }

  async load(): Promise<void> {
    try {
      const reply = await sessionsApi.conversation(this.sessionId);
      if (this.disposed) return;
      this.render(reply.turns);
      this.source.textContent = reply.source === 'transcript' ? 'From the agent\u2019s transcript.' : 'Prompts sent through Corral (no transcript found, so no replies).';
    } catch (error) {
      if (!this.disposed) this.source.textContent = `No conversation: ${error instanceof ApiError ? error.message : String(error)}`;
    }
  }

  private render(turns: ConversationTurn[]): void {
    replaceChildren(this.list, ...(turns.length === 0
      ? [h('li', { class: 'empty' }, 'No prompts yet.')]
      : turns.map((turn) => h('li', { class: `turn turn-${turn.role}` },
        h('div', { class: 'turn-head' }, h('span', { class: 'who' }, turn.role === 'user' ? 'You' : 'Agent'),
          turn.at === null ? null : h('time', { attrs: { datetime: turn.at, 'data-live': 'time' } }, shortTime(turn.at))),
        h('div', { class: 'turn-text' }, turn.text)))));
    this.list.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }

  dispose(): void {
    this.disposed = true;
    for (const timer of this.timers) window.clearTimeout(timer);
    this.timers.clear();
  }
}
