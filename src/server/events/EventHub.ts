// Numbers the engine's events (`<boot>.<seq>` ids) and keeps a bounded backlog so SSE clients can resume with
// Last-Event-ID and webhooks deliver the same events. Holds no session state beyond that backlog.

import { randomBytes } from 'node:crypto';
import { Emitter, type Disposable, type Event } from '../../common/lifecycle.js';
import type { EngineEvent, HubEvent } from '../../protocol/events.js';

/**
 * 2048 events: each carries a session object (~1–2 KB), so the backlog stays under ~4 MB, and it covers a
 * reconnect after several seconds of 256 busy sessions changing state.
 */
export const DEFAULT_EVENT_BACKLOG = 2048;

/** Where a resume starts: the events after the given id, and how many were lost in between (null: unknown). */
export interface ResumePoint {
  events: HubEvent[];
  lost: number | null;
  reason: 'ok' | 'evicted' | 'other-boot' | 'malformed';
}

export class EventHub implements Disposable {
  /** Changes at every daemon start, so an id from before a restart is recognised as such. */
  readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly backlog: HubEvent[] = [];
  private readonly emitter = new Emitter<HubEvent>();
  readonly onEvent: Event<HubEvent> = this.emitter.event;
  private readonly subscription: Disposable;

  constructor(
    engine: { readonly onEvent: Event<EngineEvent> },
    private readonly capacity = DEFAULT_EVENT_BACKLOG,
  ) {
    this.subscription = engine.onEvent((event) => this.accept(event));
  }

  private accept(event: EngineEvent): void {
    this.publish(event);
  }

  private publish(event: EngineEvent): void {
    this.seq++;
    const sessionId = event.type === 'session.created' ? event.session.id : event.sessionId;
    const hubEvent: HubEvent = { id: `${this.boot}.${this.seq}`, type: event.type, at: new Date().toISOString(), sessionId, data: event };
    this.backlog.push(hubEvent);
    if (this.backlog.length > this.capacity) this.backlog.shift();
    this.emitter.fire(hubEvent);
  }

  /** The id of the newest event (a client that starts now resumes after it). */
  get lastId(): string {
    return `${this.boot}.${this.seq}`;
  }

  /** Events after `lastEventId`, with an honest count of the ones that can no longer be replayed. */
  resumeAfter(lastEventId: string): ResumePoint {
    const match = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim());
    if (match === null) return { events: [...this.backlog], lost: null, reason: 'malformed' };
    if (match[1] !== this.boot) {
      // Another daemon run numbered that id: what happened between is unknown; everything held now is new.
      return { events: [...this.backlog], lost: null, reason: 'other-boot' };
    }
    const after = Number(match[2]);
    const oldestSeq = this.seq - this.backlog.length + 1;
    if (after + 1 < oldestSeq) return { events: [...this.backlog], lost: oldestSeq - after - 1, reason: 'evicted' };
    return { events: this.backlog.slice(Math.max(0, after + 1 - oldestSeq)), lost: 0, reason: 'ok' };
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
