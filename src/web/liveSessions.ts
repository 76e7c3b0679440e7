// Keeps the dashboard's picture of every session fresh: the daemon's event stream (`GET /api/v1/events`) says
// what changed and we re-read that session; without the stream it polls. Must never hold a stale list silently.

import type { SessionInfo } from '../protocol/sessionTypes.js';
import { API, sessionsApi } from './api.js';
import type { Disposable } from './dom.js';

/** Polling period when the event stream is unavailable: a badge is at most this late. */
const POLL_MS = 2000;
/** Even with the stream, a full re-read this often heals anything missed (a dropped event, a clock jump). */
const SAFETY_REFRESH_MS = 30_000;
/** After the stream failed for good, try it again this much later. */
const STREAM_RETRY_MS = 30_000;
/** Events that arrive together (a create then its first states) cause one re-read per session per 100 ms. */
const COALESCE_MS = 100;
// agent.version: the session header says when the CLI version is not verified, as soon as the version is read.
const EVENT_TYPES = ['session.created', 'session.state', 'session.exited', 'agent.version'];

export type StreamMode = 'events' | 'polling' | 'connecting';

export class LiveSessions implements Disposable {
  readonly sessions = new Map<string, SessionInfo>();
  /** When each session entered its current state (from the state events; read once for sessions met in a list). */
  readonly stateSince = new Map<string, { state: string; at: string }>();
  /** Listeners told when a session enters a state (the attention queue's notifications and title count). */
  private readonly stateListeners = new Set<(session: SessionInfo, previous: string | undefined) => void>();
  /** True once the event stream was open: a later failure is the daemon going away, shown as "reconnecting…". */
  everConnected = false;
  private listeners = new Set<() => void>();
  private source: EventSource | null = null;
  private pollTimer: number | null = null;
  private retryTimer: number | null = null;
  private safetyTimer: number | null = null;
  private pending = new Map<string, number>();
  private disposed = false;
  mode: StreamMode = 'connecting';
  lastError: string | null = null;

  start(): void {
    void this.refreshAll();
    this.openStream();
    this.safetyTimer = window.setInterval(() => void this.refreshAll(), SAFETY_REFRESH_MS);
  }

  onChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  onStateEntered(listener: (session: SessionInfo, previous: string | undefined) => void): Disposable {
    this.stateListeners.add(listener);
    return { dispose: () => this.stateListeners.delete(listener) };
  }

  /** True while the daemon cannot be reached (its stream is down after having been up, or a read failed). */
  get reconnecting(): boolean {
    return (this.everConnected && this.mode !== 'events') || this.lastError !== null;
  }

  /** Sessions whose state time was already asked for, with the state it was asked in (asked once per state). */
  private readonly stateAsked = new Map<string, string>();

  /** Where the state timestamps come from when no event told us: the session's last state event. */
  private async learnStateSince(session: SessionInfo): Promise<void> {
    if (this.stateAsked.get(session.id) === session.state) return;
    this.stateAsked.set(session.id, session.state);
    try {
      const { events } = await sessionsApi.events(session.id);
      const last = events.at(-1);
      if (last !== undefined && last.to === session.state && this.stateSince.get(session.id)?.state !== session.state) {
        this.stateSince.set(session.id, { state: session.state, at: last.at });
        this.emit();
      }
    } catch (error) {
      // Gone meanwhile: its age just stays unknown.
      console.warn('no state events', error);
    }
  }

  private remember(info: SessionInfo): void {
    const previous = this.sessions.get(info.id);
    this.sessions.set(info.id, info);
    const since = this.stateSince.get(info.id);
    if (since === undefined || since.state !== info.state) {
      if (info.state === 'terminated' && info.endedAt !== null) this.stateSince.set(info.id, { state: info.state, at: info.endedAt });
      else {
        this.stateSince.delete(info.id);
        void this.learnStateSince(info);
      }
    }
    if (previous !== undefined && previous.state !== info.state) for (const listener of [...this.stateListeners]) listener(info, previous.state);
  }

  /** Re-reads one session now (after an action of ours, so the badge does not wait for the event). */
  async refresh(id: string): Promise<void> {
    try {
      const info = await sessionsApi.get(id);
      this.remember(info);
      this.lastError = null;
    } catch (error) {
      this.lastError = (error as Error).message;
    }
    this.emit();
  }

  /** A session removed for good (purged): out of every list at once. */
  forget(id: string): void {
    this.sessions.delete(id);
    this.stateSince.delete(id);
    this.emit();
  }

  async refreshAll(): Promise<void> {
    try {
      const { sessions } = await sessionsApi.list();
      const seen = new Set(sessions.map((session) => session.id));
      for (const id of this.sessions.keys()) if (!seen.has(id)) this.sessions.delete(id);
      for (const session of sessions) this.remember(session);
      this.lastError = null;
    } catch (error) {
      this.lastError = (error as Error).message;
    }
    this.emit();
  }

  private openStream(): void {
    if (this.disposed || typeof EventSource === 'undefined') {
      this.startPolling();
      return;
    }
    const source = new EventSource(`${API}/events`);
    this.source = source;
    source.onopen = () => {
      this.mode = 'events';
      this.everConnected = true;
      this.stopPolling();
      // Whatever happened while we were not listening.
      void this.refreshAll();
    };
    source.onerror = () => {
      // CONNECTING: the browser retries by itself (it resumes with Last-Event-ID). CLOSED: it gave up (a 404
      // before the stream existed, a 401): poll instead and try the stream again later.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.startPolling();
        this.retryTimer = window.setTimeout(() => this.openStream(), STREAM_RETRY_MS);
      } else {
        this.mode = 'connecting';
        this.emit();
      }
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => this.onEvent((event as MessageEvent<string>).data));
    }
    source.addEventListener('gap', () => void this.refreshAll());
  }

  private onEvent(data: string): void {
    let sessionId: string | undefined;
    try {
      const parsed = JSON.parse(data) as { sessionId?: string; event?: { to?: string; at?: string } };
      sessionId = parsed.sessionId;
      if (sessionId !== undefined && typeof parsed.event?.to === 'string' && typeof parsed.event.at === 'string') {
        this.stateSince.set(sessionId, { state: parsed.event.to, at: parsed.event.at });
      }
    } catch (error) {
      // Not our event format: re-read everything rather than guess.
      console.warn('unreadable event', error);
    }
    if (sessionId === undefined) {
      void this.refreshAll();
      return;
    }
    if (this.pending.has(sessionId)) return;
    const id = sessionId;
    this.pending.set(
      id,
      window.setTimeout(() => {
        this.pending.delete(id);
        void this.refresh(id);
      }, COALESCE_MS),
    );
  }

  private startPolling(): void {
    this.mode = 'polling';
    this.emit();
    if (this.pollTimer === null && !this.disposed) this.pollTimer = window.setInterval(() => void this.refreshAll(), POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) window.clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }

  dispose(): void {
    this.disposed = true;
    this.source?.close();
    this.stopPolling();
    if (this.retryTimer !== null) window.clearTimeout(this.retryTimer);
    if (this.safetyTimer !== null) window.clearInterval(this.safetyTimer);
    for (const timer of this.pending.values()) window.clearTimeout(timer);
    this.pending.clear();
    this.listeners.clear();
  }
}
