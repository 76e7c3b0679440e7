// The state timeline: each change of the session's state with its time, source and reason.
// Reasons come from the program's output and hooks: shown as text only.

import type { SessionState, StateEvent } from '../../protocol/sessionTypes.js';
import { h, replaceChildren } from '../dom.js';
import { shortTime, stateBadge } from '../format.js';

export class TimelinePanel {
  readonly element = h('ol', { class: 'timeline', attrs: { id: 'timeline' } });

  render(events: StateEvent[]): void {
    replaceChildren(this.element, ...events.map((event) =>
      h('li', {},
        h('time', { attrs: { datetime: event.at, title: event.at } }, shortTime(event.at)),
        h('span', { class: 'transition' }, event.from === null ? '' : `${label(event.from)} → `, stateBadge(event.to)),
        h('span', { class: `source source-${event.source}` }, event.source),
        h('span', { class: 'reason' }, event.reason),
      )));
    if (events.length === 0) replaceChildren(this.element, h('li', { class: 'empty' }, 'No state changes yet.'));
  }
}

function label(state: SessionState): string {
  return state.replace('_', ' ');
}
