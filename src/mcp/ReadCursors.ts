// Where one MCP client last stopped reading each session's output, so "read" continues from there. A cursor is
// only a number: reads never consume output, so another client (or a REST reader) loses nothing.

/**
 * Cursors kept per MCP connection. An agent rarely follows more than a few dozen sessions; 1024 bounds the map for
 * a client that touches thousands over a long connection (the oldest cursor is forgotten: its next read restarts
 * at offset 0, which repeats output but never loses any).
 */
const MAX_CURSORS_PER_CONNECTION = 1024;

export class ReadCursors {
  private readonly cursors = new Map<string, number>();

  constructor(private readonly max = MAX_CURSORS_PER_CONNECTION) {}

  get(sessionId: string, stream: string): number | undefined {
    return this.cursors.get(`${sessionId}/${stream}`);
  }

  set(sessionId: string, stream: string, offset: number): void {
    const key = `${sessionId}/${stream}`;
    // Re-insert so Map order is least recently used first.
    this.cursors.delete(key);
    this.cursors.set(key, offset);
    while (this.cursors.size > this.max) {
      const oldest = this.cursors.keys().next();
      if (oldest.done === true) break;
      this.cursors.delete(oldest.value);
    }
  }

  get size(): number {
    return this.cursors.size;
  }
}
