// Whose terminal size a session takes when several clients view it (tmux's policy): the smallest among the
// attached clients that reported a size, so every one of them sees the whole screen; a client that never sent a
// size (a read-only viewer, a dashboard grid tile) does not vote; a client leaving re-counts; one client may "take"
// the size (a resize frame with `take: true`), which wins until that client leaves. Pure bookkeeping, no I/O.

export interface TerminalSize {
  cols: number;
  rows: number;
}

export class TerminalSizeVote<Client> {
  private readonly sizes = new Map<Client, TerminalSize>();
  private taker: Client | null = null;

  /** A client's size; `take`: it wins over the others until it leaves (or another client takes). */
  set(client: Client, size: TerminalSize, take: boolean): void {
    this.sizes.set(client, size);
    if (take) this.taker = client;
  }

  /** A client left: it votes no more, and a size it took is released. Answers whether it had voted. */
  remove(client: Client): boolean {
    if (this.taker === client) this.taker = null;
    return this.sizes.delete(client);
  }

  /** The size the session should have, or null when no client has a say (the size stays as it is). */
  current(): TerminalSize | null {
    if (this.taker !== null) {
      const taken = this.sizes.get(this.taker);
      if (taken !== undefined) return taken;
    }
    let smallest: TerminalSize | null = null;
    for (const size of this.sizes.values()) {
      smallest = smallest === null ? { ...size } : { cols: Math.min(smallest.cols, size.cols), rows: Math.min(smallest.rows, size.rows) };
    }
    return smallest;
  }
}
