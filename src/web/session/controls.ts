// The session controls: interrupt, kill (with a second click to confirm), send a key or a line of text, and
// the read-only switch. Must not act on an ended session: every control is disabled once it terminates.

import { sessionsApi } from '../api.js';
import { h, type Disposable } from '../dom.js';
import type { Act } from './actions.js';

/** The kill button asks for a second click within this time. */
const KILL_CONFIRM_MS = 4000;
const SEND_KEYS = ['Enter', 'Escape', 'Tab', 'Up', 'Down', 'Left', 'Right', 'C-c', 'C-d', 'C-z', 'C-l', 'Backspace'];

export class SessionControls implements Disposable {
  readonly element: HTMLElement;
  private readonly readOnlyBox = h('input', { attrs: { type: 'checkbox', id: 'read-only' } });
  private readonly interruptBtn = h('button', { attrs: { type: 'button', id: 'btn-interrupt', title: 'Send the profile\u2019s interrupt (Ctrl-C)' } }, 'Interrupt');
  private readonly killBtn = h('button', { class: 'danger', attrs: { type: 'button', id: 'btn-kill' } }, 'Kill');
  private readonly keySelect = h('select', { attrs: { id: 'send-key', 'aria-label': 'Key to send' } }, ...SEND_KEYS.map((k) => h('option', { attrs: { value: k } }, k)));
  private readonly keyBtn = h('button', { attrs: { type: 'button', id: 'btn-send-key' } }, 'Send key');
  private readonly textInput = h('input', { attrs: { id: 'send-text', placeholder: 'Text to send (Enter submits)', 'aria-label': 'Text to send', spellcheck: 'false' } });
  /** The pending confirmation of a kill: the timer that disarms it. */
  private killArmed: number | null = null;

  /** `onReadOnly` is told when the user flips the read-only switch. */
  constructor(sessionId: string, act: Act, onReadOnly: (readOnly: boolean) => void) {
    this.element = h('section', { class: 'controls', attrs: { 'aria-label': 'Session controls' } },
      this.interruptBtn, this.killBtn,
      h('span', { class: 'group' }, this.keySelect, this.keyBtn),
      h('span', { class: 'group grow' }, this.textInput),
      h('label', { class: 'switch' }, this.readOnlyBox, h('span', {}, 'Read-only')),
    );

    this.readOnlyBox.addEventListener('change', () => {
      const readOnly = this.readOnlyBox.checked;
      onReadOnly(readOnly);
      this.textInput.disabled = readOnly;
      this.keyBtn.disabled = readOnly;
    });
    this.interruptBtn.addEventListener('click', () => act('Interrupt', () => sessionsApi.interrupt(sessionId)));
    this.killBtn.addEventListener('click', () => {
      if (this.killArmed === null) {
        this.killBtn.textContent = 'Really kill?';
        this.killBtn.classList.add('armed');
        this.killArmed = window.setTimeout(() => this.disarm(), KILL_CONFIRM_MS);
        return;
      }
      this.disarm();
      this.killBtn.disabled = true;
      act('Kill', () => sessionsApi.kill(sessionId));
    });
    this.keyBtn.addEventListener('click', () => act('Send key', () => sessionsApi.input(sessionId, { keys: [this.keySelect.value] })));
    this.textInput.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      const data = this.textInput.value;
      this.textInput.value = '';
      act('Send', () => sessionsApi.input(sessionId, { data, keys: ['Enter'] }));
    });
  }

  /** Disables every control once the session is ending or ended (and enables them otherwise). */
  setEnded(ended: boolean): void {
    for (const control of [this.interruptBtn, this.killBtn, this.keyBtn, this.textInput, this.keySelect]) control.disabled = ended;
  }

  private disarm(): void {
    if (this.killArmed !== null) window.clearTimeout(this.killArmed);
    this.killArmed = null;
    this.killBtn.textContent = 'Kill';
    this.killBtn.classList.remove('armed');
  }

  dispose(): void {
    this.disarm();
  }
}
