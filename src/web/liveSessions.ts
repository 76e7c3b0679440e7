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
const EVENT_TYPES = ['session.created', 'session.state', 'session.exited'];

export type StreamMode = 'events' | 'polling' | 'connecting';

export class LiveSessions implements Disposable {
  readonly sessions = new Map<string, SessionInfo>();
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

  /** Re-reads one session now (after an action of ours, so the badge does not wait for the event). */
  async refresh(id: string): Promise<void> {
    try {
      const info = await sessionsApi.get(id);
      this.sessions.set(info.id, info);
      this.lastError = null;
    } catch (error) {
      this.lastError = (error as Error).message;
    }
    this.emit();
  }

  async refreshAll(): Promise<void> {
    try {
      const { sessions } = await sessionsApi.list();
      this.sessions.clear();
      for (const session of sessions) this.sessions.set(session.id, session);
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
      sessionId = (JSON.parse(data) as { sessionId?: string }).sessionId;
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
