// The pending question of a `waiting_input` session: the last lines of its screen, and buttons that answer.
// Screen text is the program's: shown as text only; an answer goes through the daemon, never typed blind.

import type { SessionInfo } from '../../protocol/sessionTypes.js';
import { sessionsApi } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import type { Act } from './actions.js';

/** Lines of the rendered screen shown as the pending question. */
const QUESTION_LINES = 12;
/** A numbered option of a dialog on screen: an optional cursor mark, the number, the label. */
const DIALOG_OPTION = /^[\s│|]*(?:[❯>›]\s*)?(\d{1,2})\.\s+(\S.*?)[\s│|]*$/;
/** The answers offered when the screen shows no numbered dialog. */
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
    if (session?.state !== 'waiting_input') {
      this.hide();
      return;
    }
    let lines: string[] = [];
    try {
      lines = (await sessionsApi.screen(this.sessionId)).lines;
    } catch (error) {
      // Pipe sessions have no screen; the question is then whatever the terminal shows.
      console.warn('no screen for the question', error);
    }
    session = this.current() ?? session;
    const shown = trimBlank(lines).slice(-QUESTION_LINES);
    // A dialog's numbered options ("❯ 1. Yes, proceed") become buttons that answer through the daemon, which
    // checks the dialog is still there; anything else gets plain keys.
    const options = shown.flatMap((line) => {
      const match = DIALOG_OPTION.exec(line);
      return match?.[1] !== undefined && match[2] !== undefined ? [{ choice: Number(match[1]), label: match[2].trim() }] : [];
    });
    const id = this.sessionId;
    const buttons = options.length > 0
      ? options.map((option) => this.answerButton(`${option.choice}. ${option.label}`, () => sessionsApi.answer(id, option.choice)))
      : ANSWER_KEYS.map((answer) => this.answerButton(answer.label, () => sessionsApi.input(id, { data: answer.data, keys: answer.keys })));
    replaceChildren(this.element,
      h('h3', { attrs: { id: 'question-h' } }, 'The program is waiting for an answer'),
      h('p', { class: 'sub' }, session.stateReason),
      h('pre', { class: 'screen' }, shown.join('\n')),
      h('div', { class: 'answers' }, ...buttons),
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
