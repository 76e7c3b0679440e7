// One session's WebSocket (`/ws/sessions/{id}`, PRODUCT §5) for the dashboard: binary output frames with their
// 8-byte offsets, JSON state/exit/gap frames, and reconnection that resumes at the next offset so no byte is
// shown twice or skipped. Must never write a byte it has already written, and never retry once the session ended.

import type { ExitInfo } from '../protocol/sessionTypes.js';
import { decodeOutputFrame, isFinalClose, OUTPUT_HEADER_BYTES, type ClientFrame, type ServerTextFrame, type StateFrame } from '../protocol/wsFrames.js';
import type { Disposable } from './dom.js';

/** Reconnect delays: quick for a blip, then backing off to 5 s so a stopped daemon is not hammered. */
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 5000];
/** Acknowledge after this many bytes were written to the terminal (the server's flow control counts acks). */
const ACK_EVERY_BYTES = 64 * 1024;

export type LinkStatus = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'refused';

export interface ConnectionHandlers {
  /** Output in order, each byte once; `done` is called when the terminal has taken it. */
  onOutput(data: Uint8Array, done: () => void): void;
  onState(change: StateFrame): void;
  onExit(exit: ExitInfo): void;
  /** The session's real terminal size changed (the smallest attached client's, a taken size, a REST resize). */
  onSize(cols: number, rows: number): void;
  /** Bytes [from, to) were evicted before we could read them. */
  onGap(from: number, to: number): void;
  onStatus(status: LinkStatus, detail: string): void;
}

export class TerminalConnection implements Disposable {
  private socket: WebSocket | null = null;
  /** The offset of the next byte we expect; null until the server told us where live output starts. */
  private next: number | null;
  private attempts = 0;
  private retryTimer: number | null = null;
  private disposed = false;
  private exited = false;
  private unacked = 0;
  /** Bytes written to the terminal (tests compare with the session's own counters). */
  bytesShown = 0;
  /** How many times the socket was opened (1 + reconnects). */
  connects = 0;

  constructor(
    private readonly sessionId: string,
    since: number | null,
    private readOnly: boolean,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.next = since;
  }

  get nextOffset(): number | null {
    return this.next;
  }

  /** Where the first connect starts reading (set before it; later attaches resume on their own). */
  startAt(offset: number): void {
    if (this.connects === 0) this.next = offset;
  }

  get isReadOnly(): boolean {
    return this.readOnly;
  }

  connect(): void {
    if (this.disposed) return;
    const query = new URLSearchParams({ mode: this.readOnly ? 'read-only' : 'read-write' });
    if (this.next !== null) query.set('since', String(this.next));
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws/sessions/${encodeURIComponent(this.sessionId)}?${query}`);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.connects++;
    this.handlers.onStatus(this.connects === 1 ? 'connecting' : 'reconnecting', '');
    socket.onopen = () => {
      this.attempts = 0;
      this.handlers.onStatus('live', '');
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (socket !== this.socket) return;
      if (typeof event.data === 'string') this.onText(event.data);
      else this.onBinary(new Uint8Array(event.data));
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (this.disposed) return;
      if (this.exited) {
        this.handlers.onStatus('ended', '');
        return;
      }
      // The server refused us for a reason a retry will not fix (unknown session, logged out).
      if (isFinalClose(event.code)) {
        this.handlers.onStatus('refused', event.reason || `closed with ${event.code}`);
        return;
      }
      this.scheduleReconnect(event.reason || `closed (${event.code})`);
    };
  }

  send(frame: Exclude<ClientFrame, { type: 'ack' }>): boolean {
    if (this.socket === null || this.socket.readyState !== WebSocket.OPEN) return false;
    if (frame.type === 'input' && this.readOnly) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Re-attaches in the other mode, resuming at the next offset (no replay, no loss). */
  setReadOnly(readOnly: boolean): void {
    if (readOnly === this.readOnly) return;
    this.readOnly = readOnly;
    this.reopen();
  }

  /** Closes the socket and opens a new one at once (used after a mode change, and by tests to simulate a drop). */
  reopen(): void {
    const old = this.socket;
    this.socket = null;
    old?.close(1000, 'reattach');
    if (!this.exited) this.connect();
  }

  /** Closes the socket as a network drop would: the ordinary close handling then reconnects (a test seam). */
  drop(): void {
    this.socket?.close(4000, 'dropped');
  }

  private scheduleReconnect(why: string): void {
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempts, RECONNECT_DELAYS_MS.length - 1)] ?? 5000;
    this.attempts++;
    this.handlers.onStatus('reconnecting', `${why}; retrying in ${Math.round(delay / 100) / 10} s`);
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private onBinary(frame: Uint8Array): void {
    if (frame.length < OUTPUT_HEADER_BYTES) return;
    const decoded = decodeOutputFrame(frame);
    const offset = decoded.offset;
    let data = decoded.data;
    const end = offset + data.length;
    if (this.next === null) this.next = offset;
    if (end <= this.next) return; // all of it already shown (a replay overlapping what we had)
    if (offset < this.next) data = data.subarray(this.next - offset);
    else if (offset > this.next) this.handlers.onGap(this.next, offset);
    this.next = end;
    this.bytesShown += data.length;
    this.handlers.onOutput(data, () => this.ack(data.length));
  }

  private ack(bytes: number): void {
    this.unacked += bytes;
    if (this.unacked < ACK_EVERY_BYTES || this.next === null) return;
    this.unacked = 0;
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'ack', offset: this.next }));
  }

  private onText(text: string): void {
    let frame: ServerTextFrame;
    try {
      // The daemon's own frames (wsFrames.ts); a type it does not know yet falls through to the default.
      frame = JSON.parse(text) as ServerTextFrame;
    } catch (error) {
      console.warn('unreadable frame from the daemon', error);
      return;
    }
    switch (frame.type) {
      case 'state':
        if (this.next === null && typeof frame.offset === 'number') this.next = frame.offset;
        this.handlers.onState(frame);
        break;
      case 'exit':
        this.exited = true;
        this.handlers.onExit(frame.exit);
        break;
      case 'gap':
        if (this.next === null || frame.to > this.next) {
          this.handlers.onGap(frame.from, frame.to);
          this.next = frame.to;
        }
        break;
      case 'size':
        this.handlers.onSize(frame.cols, frame.rows);
        break;
      case 'error':
        console.warn('daemon refused a frame:', frame.message);
        break;
      default:
        // 'screen' comes only with ?screen=1, which the dashboard does not ask for.
        break;
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.retryTimer !== null) window.clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'view closed');
  }
}
