// Renaming a session in place: a small button that turns into a name field (Enter saves, Escape cancels).
// The name is the caller's text: set as a value and as text only.

import type { SessionInfo } from '../protocol/sessionTypes.js';
import { ApiError, sessionsApi } from './api.js';
import { h, replaceChildren } from './dom.js';
import { sessionTitle } from './format.js';

/** A "Rename" button for `session`; `done` gets the renamed session, `fail` the error's text. */
export function renameButton(session: SessionInfo, done: (renamed: SessionInfo) => void, fail: (text: string) => void): HTMLElement {
  const slot = h('span', { class: 'rename' });
  const button = h('button', { class: 'small', attrs: { type: 'button', 'data-rename': session.id, 'aria-label': `Rename ${sessionTitle(session)}` } }, 'Rename');
  button.disabled = session.state === 'terminated' || session.state === 'terminating';
  button.addEventListener('click', () => {
    const input = h('input', { class: 'rename-input', attrs: { type: 'text', 'aria-label': 'New name', maxlength: '128', spellcheck: 'false' } });
    input.value = session.name ?? '';
    const cancel = (): void => replaceChildren(slot, button);
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') cancel();
      if (event.key !== 'Enter') return;
      event.preventDefault();
      const name = input.value.trim();
      input.disabled = true;
      sessionsApi.rename(session.id, name === '' ? null : name).then(
        (renamed) => {
          cancel();
          done(renamed);
        },
        (error: unknown) => {
          input.disabled = false;
          fail(`Rename: ${error instanceof ApiError ? error.message : String(error)}`);
        },
      );
    });
    input.addEventListener('blur', () => {
      if (!input.disabled) cancel();
    });
    replaceChildren(slot, input);
    input.focus();
    input.select();
  });
  slot.appendChild(button);
  return slot;
}
