// The notice under the session header: how the session ended, or why an action failed.
// Error text comes from the daemon and from exceptions: set as text only.

import type { ExitInfo } from '../../protocol/sessionTypes.js';
import { h } from '../dom.js';
import { exitText } from '../format.js';

export class SessionBanner {
  readonly element = h('p', { class: 'notice', attrs: { id: 'session-banner', hidden: '' } });

  showEnded(exit: ExitInfo): void {
    this.element.textContent = `Session ended: ${exitText(exit)}.`;
    this.element.hidden = false;
  }

  /** An error stays shown (in the error style) until the next notice replaces it. */
  flash(text: string): void {
    this.element.textContent = text;
    this.element.hidden = false;
    this.element.classList.add('error');
  }
}
