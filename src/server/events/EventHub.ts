// Numbers the engine's events (`<boot>.<seq>` ids) and keeps a bounded backlog so SSE clients can resume with
// Last-Event-ID and webhooks deliver the same events. Holds no session state beyond that backlog.
//
// Events outlive the daemon (issue 14): each one is written to the store's event log before anyone is sent it, in
// the same synchronous turn, and a starting daemon loads the log's tail as its backlog. `seq` runs on across runs,
// so an id from before a restart (kill -9 included: a committed SQLite write is in the WAL, which survives the
// process) resumes exactly after it. When the store refuses writes (a full disk, another process's lock) events
// are still sent, and wait in order to be logged when it takes writes again. The one window where a sent event
// cannot be replayed: the daemon dies (or more than a backlog's worth waits) before the store takes them. The next
// run then numbers other events with the same seqs; `boot` names the run that numbered each event, so a client
// holding such an id gets a `not-logged` gap instead of a wrong replay — but a client whose id came before that
// outage resumes into the next run with no gap, as nothing logged says that the dead run sent more.

import { randomBytes } from 'node:crypto';
import { Emitter, type Disposable, type Event } from '../../common/lifecycle.js';
import type { EngineEvent, EventGap, HubEvent } from '../../protocol/events.js';

/**
 * 2048 events: each carries a session object (~1–2 KB), so the backlog stays under ~4 MB, and it covers a
 * reconnect after several seconds of 256 busy sessions changing state. The event log keeps as many.
 */
export const DEFAULT_EVENT_BACKLOG = 2048;
/** The log is pruned back to the backlog's size every this many events: one cheap DELETE, not one per event. */
const PRUNE_EVERY = 256;
/** How often events the store refused are offered again while no new event comes. */
const LOG_RETRY_MS = 1_000;

/** An event as the log holds it: the run that numbered it, its seq, the HubEvent as JSON. */
export interface LoggedEvent {
  seq: number;
  boot: string;
  body: string;
}

/** Where events are kept across restarts (the daemon passes its Store; this face never imports the store). */
export interface EventLogStore {
  /** Appends the events in one transaction (all or none). */
  appendLoggedEvents(events: readonly LoggedEvent[]): void;
  /** True inside a commit: an event logged now is durable only once that commit is done. */
  readonly inTransaction: boolean;
  /** The newest `limit` events, oldest first. */
  recentLoggedEvents(limit: number): LoggedEvent[];
  dropLoggedEventsUpTo(seq: number): void;
}

/** Where a resume starts: the events after the given id, and how many were lost in between (null: unknown). */
export interface ResumePoint {
  events: HubEvent[];
  lost: number | null;
  reason: 'ok' | EventGap['reason'];
}

interface Held {
  seq: number;
  boot: string;
  event: HubEvent;
}

export interface EventHubOptions {
  capacity?: number;
  /** The event log; without one, events live as long as this daemon (tests of the faces alone). */
  log?: EventLogStore;
  /** Told once per kind of refusal when the log refuses a write (the event is still sent). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

export class EventHub implements Disposable {
  /** Changes at every daemon start: which run numbered an event. */
  readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly backlog: Held[] = [];
  private readonly emitter = new Emitter<HubEvent>();
  readonly onEvent: Event<HubEvent> = this.emitter.event;
  private readonly subscription: Disposable;
  private readonly capacity: number;
  private readonly log: EventLogStore | undefined;
  /** Events sent whose write the log refused so far, oldest first: retried before the next event is logged. */
  private readonly pending: LoggedEvent[] = [];
  /** Events given up because too many waited (they cannot be replayed after a restart). */
  private dropped = 0;
  private lastRefusal: string | null = null;
  private retry: Disposable | null = null;
  /** Events logged inside a store commit, sent once it is done. */
  private readonly unsent: HubEvent[] = [];
  /** The seq the log was last pruned at. */
  private prunedAt = 0;

  constructor(
    engine: { readonly onEvent: Event<EngineEvent> },
    private readonly options: EventHubOptions = {},
  ) {
    this.capacity = options.capacity ?? DEFAULT_EVENT_BACKLOG;
    this.log = options.log;
    for (const logged of this.log?.recentLoggedEvents(this.capacity) ?? []) {
      this.backlog.push({ seq: logged.seq, boot: logged.boot, event: JSON.parse(logged.body) as HubEvent });
      this.seq = logged.seq;
    }
    this.subscription = engine.onEvent((event) => this.publish(event));
  }

  private publish(event: EngineEvent): void {
    const seq = ++this.seq;
    const sessionId = event.type === 'session.created' ? event.session.id : event.sessionId;
    const hubEvent: HubEvent = { id: `${this.boot}.${seq}`, type: event.type, at: new Date().toISOString(), sessionId, data: event };
    // Logged before it is sent: an event any client or webhook saw can be replayed after any restart.
    this.append({ seq, boot: this.boot, body: JSON.stringify(hubEvent) });
    this.backlog.push({ seq, boot: this.boot, event: hubEvent });
    if (this.backlog.length > this.capacity) this.backlog.shift();
    // An event raised inside one of the engine's store commits (a create's) is logged in that commit: it is sent
    // once the commit is done (the same synchronous turn; a microtask runs right after), and later events wait
    // behind it so order holds.
    if (this.unsent.length > 0 || this.log?.inTransaction === true) {
      this.unsent.push(hubEvent);
      if (this.unsent.length === 1) queueMicrotask(() => this.sendUnsent());
      return;
    }
    this.emitter.fire(hubEvent);
  }

  private sendUnsent(): void {
    for (let i = 0; i < this.unsent.length; i++) this.emitter.fire(this.unsent[i] as HubEvent);
    this.unsent.length = 0;
  }

  private append(logged: LoggedEvent): void {
    if (this.log === undefined) return;
    // Kept in order: while earlier events wait for the store, a new one waits behind them.
    this.pending.push(logged);
    if (this.pending.length > this.capacity) {
      // Past the backlog's size the oldest is given up: a resume after a restart counts it in a `not-logged` gap.
      this.pending.shift();
      this.dropped++;
    }
    this.flush();
  }

  /** Writes the waiting events in one transaction; on a refusal they stay, and a timer retries every second. */
  private flush(): void {
    const log = this.log;
    if (log === undefined || this.pending.length === 0) return;
    try {
      log.appendLoggedEvents(this.pending);
      const newest = this.pending.at(-1)?.seq ?? 0;
      this.pending.length = 0;
      if (newest - this.prunedAt >= PRUNE_EVERY) {
        log.dropLoggedEventsUpTo(newest - this.capacity);
        this.prunedAt = newest;
      }
      this.lastRefusal = null;
      this.retry?.dispose();
      this.retry = null;
    } catch (error) {
      // A full disk or a locked store: events still go out (held here and in the backlog); they reach the log
      // when the store takes writes again. Only a daemon that dies before then loses them for a resume.
      const message = (error as Error).message;
      if (message !== this.lastRefusal) {
        this.options.warn?.('the event log refused events; they are sent, and logged once the store takes them', { error: message, waiting: this.pending.length });
      }
      this.lastRefusal = message;
      if (this.retry === null) {
        const timer = setInterval(() => this.flush(), LOG_RETRY_MS);
        timer.unref();
        this.retry = { dispose: () => clearInterval(timer) };
      }
    }
  }

  /**
   * This run's events so far, oldest first: those a daemon's start raised (a session that ended while no daemon ran,
   * a state re-derived at reattach) before any face could subscribe. Bounded by the backlog.
   */
  eventsOfThisRun(): HubEvent[] {
    return this.backlog.filter((held) => held.boot === this.boot).map((held) => held.event);
  }

  /** The id of the newest event (a client that starts now resumes after it). */
  get lastId(): string {
    const newest = this.backlog.at(-1);
    return newest === undefined ? `${this.boot}.${this.seq}` : newest.event.id;
  }

  /** Events after `lastEventId`, with an honest count of the ones that can no longer be replayed. */
  resumeAfter(lastEventId: string): ResumePoint {
    const all = (): HubEvent[] => this.backlog.map((held) => held.event);
    const match = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim());
    if (match === null) return { events: all(), lost: null, reason: 'malformed' };
    const [, boot, seqText] = match as unknown as [string, string, string];
    const after = Number(seqText);
    const oldest = this.backlog[0];
    if (oldest === undefined) return boot === this.boot ? { events: [], lost: 0, reason: 'ok' } : { events: [], lost: null, reason: 'other-boot' };
    // A run this log does not know (another data dir, a store wiped since, or a run whose events all left the
    // window): nothing can be said of what came between, and everything held may be new to the client.
    const known = boot === this.boot || this.backlog.some((held) => held.boot === boot);
    if (!known && after !== oldest.seq - 1) return { events: all(), lost: null, reason: 'other-boot' };
    if (after < oldest.seq - 1) return { events: all(), lost: oldest.seq - after - 1, reason: 'evicted' };
    const later = this.backlog.filter((held) => held.seq > after);
    const at = this.backlog.find((held) => held.seq === after);
    if (at !== undefined ? at.boot === boot : after === oldest.seq - 1) {
      // The id's own event (or the one just before the backlog): what follows is what the client missed, except
      // for seqs missing in between, events whose write the log refused in a run that has ended since.
      let expected = after + 1;
      let lost = 0;
      for (const held of later) {
        lost += held.seq - expected;
        expected = held.seq + 1;
      }
      return { events: later.map((held) => held.event), lost, reason: lost === 0 ? 'ok' : 'not-logged' };
    }
    // A run this log knows numbered it, but the event never reached the log: what came after it follows; how many
    // more of that run's events went unlogged is unknown.
    return { events: later.map((held) => held.event), lost: null, reason: 'not-logged' };
  }

  dispose(): void {
    this.retry?.dispose();
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
