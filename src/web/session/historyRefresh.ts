// Keeps the timeline and the command history current: both re-read together, at most once per interval while
// states flip quickly. Must not render into a view that was closed while a read was in flight.

import { sessionsApi } from '../api.js';
import type { Disposable } from '../dom.js';
import type { CommandsPanel } from './commands.js';
import type { TimelinePanel } from './timeline.js';

/** Timeline and command history re-read at most every 300 ms while states flip quickly. */
const HISTORY_REFRESH_MS = 300;

export class HistoryRefresh implements Disposable {
  private timer: number | null = null;
  private disposed = false;

  constructor(
    private readonly sessionId: string,
    private readonly timeline: TimelinePanel,
    private readonly commands: CommandsPanel,
  ) {}

  /** A read soon; calls until it starts share it. */
  schedule(): void {
    if (this.timer !== null || this.disposed) return;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.load();
    }, HISTORY_REFRESH_MS);
  }

  /** A read now. Either list may fail alone (an older daemon without the route): the other still shows. */
  async load(): Promise<void> {
    const [events, commands] = await Promise.allSettled([sessionsApi.events(this.sessionId), sessionsApi.commands(this.sessionId)]);
    if (this.disposed) return;
    if (events.status === 'fulfilled') this.timeline.render(events.value.events);
    if (commands.status === 'fulfilled') this.commands.render(commands.value.commands);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }
}
