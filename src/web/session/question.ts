// The pending question of a `waiting_input` session: the dialog the daemon reads on its screen (question, context,
// options that answer through `answer`), or, when no dialog is known (a shell's [y/N]), the last lines of its screen
// and plain keys. Screen text is the program's: shown as text only.

import type { PendingDialog } from '../../protocol/apiReplies.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import { sessionsApi } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import type { Act } from './actions.js';

/** Lines of the rendered screen shown as the pending question. */
const QUESTION_LINES = 12;
/** The answers offered when the daemon knows no dialog on the screen. */
const ANSWER_KEYS: { label: string; keys?: string[]; data?: string }[] = [
  { label: 'Accept (Enter)', keys: ['Enter'] },
  { label: '1', data: '1' },
  { label: '2', data: '2' },
  { label: '3', data: '3' },
  { label: 'y', data: 'y' },
  { label: 'n', data: 'n' },
  { label: 'Decline (Esc)', keys: ['Escape'] },
];

export class QuestionPanel {
  readonly element = h('section', { class: 'question', attrs: { id: 'question', hidden: '', 'aria-live': 'polite', 'aria-labelledby': 'question-h' } });

  /** `current` reads the session as the view knows it now (it may change while the screen is fetched). */
  constructor(
    private readonly sessionId: string,
    private readonly current: () => SessionInfo | undefined,
    private readonly act: Act,
  ) {}

  /** Shows the question if the session waits for input, hides it otherwise. */
  async update(): Promise<void> {
    let session = this.current();
    if (session?.state !== 'waiting_input' && session?.state !== 'authenticating') {
      this.hide();
      return;
    }
    const id = this.sessionId;
    let dialog: PendingDialog | null = null;
    try {
      dialog = (await sessionsApi.dialog(id)).dialog;
    } catch (error) {
      console.warn('no dialog read', error);
    }
    if (dialog !== null) {
      const chosen = dialog;
      replaceChildren(this.element,
        h('h3', { attrs: { id: 'question-h' } }, chosen.question),
        chosen.context.length > 0 ? h('pre', { class: 'screen' }, chosen.context.join('\n')) : null,
        h('div', { class: 'answers' }, ...chosen.options.map((option) =>
          this.answerButton(option.number === null ? option.label : `${option.number}. ${option.label}`, () => sessionsApi.answer(id, option.number ?? option.label)))),
      );
      this.element.hidden = false;
      return;
    }
    let lines: string[] = [];
    try {
      lines = (await sessionsApi.screen(id)).lines;
    } catch (error) {
      // Pipe sessions have no screen; the question is then whatever the terminal shows.
      console.warn('no screen for the question', error);
    }
    session = this.current() ?? session;
    if (session.state !== 'waiting_input') {
      this.hide();
      return;
    }
    const shown = trimBlank(lines).slice(-QUESTION_LINES);
    // No dialog the profile knows: plain keys, typed as the user would.
    replaceChildren(this.element,
      h('h3', { attrs: { id: 'question-h' } }, 'The program is waiting for an answer'),
      h('p', { class: 'sub' }, session.stateReason),
      h('pre', { class: 'screen' }, shown.join('\n')),
      h('div', { class: 'answers' }, ...ANSWER_KEYS.map((answer) => this.answerButton(answer.label, () => sessionsApi.input(id, { data: answer.data, keys: answer.keys })))),
    );
    this.element.hidden = false;
  }

  hide(): void {
    this.element.hidden = true;
  }

  private answerButton(label: string, answer: () => Promise<unknown>): HTMLButtonElement {
    return h('button', { class: 'answer', attrs: { type: 'button' }, on: { click: () => this.act('Answer', answer) } }, label);
  }
}

function trimBlank(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
  return lines.slice(0, end);
}
