// The command history: each command run in the session with its exit code and duration.
// Command text is caller data: shown as text only.

import type { CommandRecord } from '../../protocol/commandHistory.js';
import { h, replaceChildren } from '../dom.js';
import { duration } from '../format.js';

export class CommandsPanel {
  readonly element: HTMLTableElement;
  private readonly body = h('tbody', { attrs: { id: 'commands' } });

  constructor() {
    this.element = h('table', { class: 'commands' },
      h('thead', {}, h('tr', {}, ...['#', 'Command', 'Exit', 'Time'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
      this.body,
    );
  }

  render(commands: CommandRecord[]): void {
    replaceChildren(this.body, ...commands.map((command) =>
      h('tr', {},
        h('td', {}, String(command.seq)),
        h('td', { class: 'cmd' }, h('code', {}, command.text)),
        h('td', { class: command.exitCode === 0 ? 'ok' : command.exitCode === null ? '' : 'bad' }, command.exitCode === null ? (command.endedAt === null ? 'running' : '—') : String(command.exitCode)),
        h('td', {}, command.timedOut ? 'timed out' : duration(command.durationMs)),
      )));
    if (commands.length === 0) replaceChildren(this.body, h('tr', { class: 'empty' }, h('td', { attrs: { colspan: '4' } }, 'No commands recorded.')));
  }
}
