// Where the engine's sessions are in memory: the live ones, and the most recently ended ones up to the configured
// bound (the oldest is evicted and disposed first; the store keeps its record and output). It starts, ends and
// saves nothing.

import type { Session } from './Session.js';

/** How many live session ids a SESSION_NOT_FOUND message names: enough to spot a typo, short enough to read. */
const NAMED_LIVE_IDS = 20;

export class SessionRegistry {
  private readonly live = new Map<string, Session>();
  /** Ended sessions kept in memory, oldest first (Map keeps insertion order). */
  private readonly ended = new Map<string, Session>();

  /** `maxEnded`: ended sessions kept in memory (EngineConfig.endedInMemory). */
  constructor(private readonly maxEnded: number) {}

  get liveCount(): number {
    return this.live.size;
  }

  get endedCount(): number {
    return this.ended.size;
  }

  addLive(session: Session): void {
    this.live.set(session.id, session);
  }

  /** A session whose create was undone (the store refused it): as if it had never been added. */
  removeLive(id: string): void {
    this.live.delete(id);
  }

  /** A session in memory (live or recently ended). */
  find(id: string): Session | undefined {
    return this.live.get(id) ?? this.ended.get(id);
  }

  findLive(id: string): Session | undefined {
    return this.live.get(id);
  }

  liveSessions(): Session[] {
    return [...this.live.values()];
  }

  /** The first few live ids, for error messages. */
  someLiveIds(): string[] {
    return [...this.live.keys()].slice(0, NAMED_LIVE_IDS);
  }

  /** The task's live session that is not already ending. */
  liveForTask(taskId: string): Session | undefined {
    for (const session of this.live.values()) {
      if (session.spec.taskId === taskId && session.state !== 'terminating') return session;
    }
    return undefined;
  }

  /** The session ended: it leaves the live ones and joins the ended ones, evicting the oldest past the bound. */
  moveToEnded(session: Session): void {
    this.live.delete(session.id);
    this.ended.set(session.id, session);
    while (this.ended.size > this.maxEnded) {
      const oldest = this.ended.keys().next();
      if (oldest.done === true) break;
      this.dropEnded(oldest.value);
    }
  }

  /** Forgets an ended session (evicted, or removed by retention) and releases its memory. */
  dropEnded(id: string): void {
    const session = this.ended.get(id);
    if (session === undefined) return;
    this.ended.delete(id);
    void session.dispose();
  }

  /** At shutdown: releases every ended session kept in memory. */
  async disposeEnded(): Promise<void> {
    const sessions = [...this.ended.values()];
    this.ended.clear();
    await Promise.all(sessions.map((session) => session.dispose()));
  }
}
