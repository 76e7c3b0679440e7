// One attachment to a session's WebSocket (`/ws/sessions/{id}`): typed events for output, screen, state, exit and
// gaps, and input, resize and signal the other way. A dropped connection is reopened from the last offset seen, so
// no byte is missed or repeated; a refusal (unknown session, bad token) or the session's end is final.
// Frames are decoded only by src/protocol/wsFrames.ts; this file must never grow a second decoder.

import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { type RawData } from 'ws';
import { Emitter, type Event, type Disposable } from '../common/lifecycle.js';
import type { SignalName } from '../protocol/api.js';
import type { ExitInfo } from '../protocol/sessionTypes.js';
import {
  decodeOutputFrame,
  isFinalClose,
  type ClientFrame,
  type ErrorFrame,
  type GapFrame,
  type ScreenFrame,
  type ServerTextFrame,
  type StateFrame,
} from '../protocol/wsFrames.js';
import { CorralClientError } from './CorralClientError.js';
import type { Endpoint } from './endpoint.js';
import { refusal } from './RestTransport.js';

/**
 * Waits before each reopen after a drop: quick for a blip, backing off to 5 s for a restarting daemon. After the
 * last one the attachment gives up (about half a minute without a daemon) and `closed` says why.
 */
export const RECONNECT_DELAYS_MS: readonly number[] = [100, 250, 500, 1000, 2000, 5000, 5000, 5000, 5000, 5000];

export interface AttachOptions {
  /** Output offset to start from (default: the live end, or the screen's offset with `screen`). */
  since?: number;
  mode?: 'read-write' | 'read-only';
  /** Start with the rendered screen (pty sessions) instead of a replay; reopens resume by offset instead. */
  screen?: boolean;
  /** `pause`: the session may wait for this client (see SessionChannel); default `isolate`. */
  flow?: 'isolate' | 'pause';
  /** Reopen a dropped connection from the last offset (default true). */
  reconnect?: boolean;
}

/** How an attachment ended: the close that ended it, and the refusal or failure behind it if any. */
export interface AttachClose {
  code: number;
  reason: string;
  /** The session ended (an exit frame came first). */
  exited: boolean;
  /** A refusal or an unreachable daemon (CorralClientError), when that is what ended it. */
  error: CorralClientError | null;
}

export interface OutputFrameEvent {
  offset: number;
  data: Uint8Array;
}

export class SessionAttachment implements Disposable {
  private readonly outputEmitter = new Emitter<OutputFrameEvent>();
  private readonly screenEmitter = new Emitter<ScreenFrame>();
  private readonly stateEmitter = new Emitter<StateFrame>();
  private readonly exitEmitter = new Emitter<ExitInfo>();
  private readonly gapEmitter = new Emitter<GapFrame>();
  private readonly refusedEmitter = new Emitter<ErrorFrame>();
  private readonly reconnectEmitter = new Emitter<{ attempt: number; since: number }>();
  /** Output bytes, in order, from wherever this attachment started. */
  readonly onOutput: Event<OutputFrameEvent> = this.outputEmitter.event;
  readonly onScreen: Event<ScreenFrame> = this.screenEmitter.event;
  readonly onState: Event<StateFrame> = this.stateEmitter.event;
  readonly onExit: Event<ExitInfo> = this.exitEmitter.event;
  readonly onGap: Event<GapFrame> = this.gapEmitter.event;
  /** A frame we sent was refused (READ_ONLY, NOT_SUPPORTED_FOR_KIND, …); the connection stays open. */
  readonly onFrameRefused: Event<ErrorFrame> = this.refusedEmitter.event;
  /** A dropped connection is being reopened from `since`. */
  readonly onReconnect: Event<{ attempt: number; since: number }> = this.reconnectEmitter.event;
  /** Resolves when the first connection is open; rejects with a CorralClientError when it was refused. */
  readonly opened: Promise<void>;
  /** Resolves once the attachment is over (session ended, refusal, close(), or reconnects exhausted). */
  readonly closed: Promise<AttachClose>;

  private ws: WebSocket | null = null;
  private offset: number | null;
  private exited = false;
  private detached = false;
  /** Aborted by close(): ends a pause between reopen attempts. */
  private readonly stopped = new AbortController();
  private everOpened = false;
  private readonly opening = deferred<void>();
  private readonly ending = deferred<AttachClose>();

  constructor(
    private readonly endpoint: Endpoint,
    readonly sessionId: string,
    private readonly options: AttachOptions = {},
  ) {
    this.offset = options.since ?? null;
    this.opened = this.opening.promise;
    // Nobody has to await `opened`: a refusal also ends `closed`, which is where most callers look.
    this.opened.catch(() => undefined);
    this.closed = this.ending.promise;
    void this.run();
  }

  /** The offset after the last output byte seen: where a reopened connection resumes. Null before any frame. */
  get nextOffset(): number | null {
    return this.offset;
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Types into the session (bytes as is). False when not connected right now: the input was dropped. */
  write(data: string | Uint8Array): boolean {
    if (this.ws === null || !this.isOpen) return false;
    if (typeof data === 'string') this.sendFrame({ type: 'input', data });
    else this.ws.send(data, { binary: true });
    return true;
  }

  /**
   * This client's size: a vote (the session takes the smallest among attached clients that sent one); `take`: this
   * client's size wins until it leaves.
   */
  resize(cols: number, rows: number, take = false): boolean {
    return this.sendFrame(take ? { type: 'resize', cols, rows, take } : { type: 'resize', cols, rows });
  }

  signal(name: SignalName): boolean {
    return this.sendFrame({ type: 'signal', name });
  }

  /** Detaches (the session goes on). No event fires after this. */
  close(): void {
    if (this.detached) return;
    this.detached = true;
    this.stopped.abort();
    this.disposeEmitters();
    this.ws?.close(1000, 'detached');
    this.finish({ code: 1000, reason: 'detached', exited: this.exited, error: null });
  }

  dispose(): void {
    this.close();
  }

  private sendFrame(frame: ClientFrame): boolean {
    if (this.ws === null || !this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private async run(): Promise<void> {
    let failures = 0;
    for (;;) {
      const close = await this.connectOnce();
      if (this.detached) return;
      if (close.opened) failures = 0;
      const status = close.error?.status ?? null;
      // Refused at the door (unknown session, bad token, …): reopening cannot help. 429 (too many clients) can.
      const refused = status !== null && status >= 400 && status < 500 && status !== 429;
      const over =
        this.exited ||
        refused ||
        isFinalClose(close.code) ||
        // Never connected at all: the caller learns at once that the daemon is not there, rather than after retries.
        !this.everOpened ||
        this.options.reconnect === false ||
        failures >= RECONNECT_DELAYS_MS.length;
      if (over) {
        if (!this.everOpened) this.opening.reject(close.error ?? new CorralClientError('DAEMON_UNREACHABLE', close.reason, null));
        this.disposeEmitters();
        this.finish({ code: close.code, reason: close.reason, exited: this.exited, error: close.error });
        return;
      }
      const delay = RECONNECT_DELAYS_MS[failures] ?? 0;
      failures++;
      try {
        await sleep(delay, undefined, { signal: this.stopped.signal });
      } catch (error) {
        // close() during the pause: nothing more to reopen.
        if (this.detached) return;
        throw error;
      }
      this.reconnectEmitter.fire({ attempt: failures, since: this.offset ?? 0 });
    }
  }

  /** One connection, from open to close; resolves with how it closed. */
  private connectOnce(): Promise<{ code: number; reason: string; error: CorralClientError | null; opened: boolean }> {
    const query = new URLSearchParams();
    // A reopen resumes at the last byte seen; only the first connection asks for the screen.
    if (this.offset !== null) query.set('since', String(this.offset));
    else if (this.options.screen === true) query.set('screen', '1');
    if (this.options.mode !== undefined) query.set('mode', this.options.mode);
    if (this.options.flow !== undefined) query.set('flow', this.options.flow);
    const url = `${this.endpoint.url.replace(/^http/, 'ws')}/ws/sessions/${encodeURIComponent(this.sessionId)}?${query.toString()}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.endpoint.token}` }, perMessageDeflate: false });
    this.ws = ws;
    return new Promise((resolve) => {
      let opened = false;
      let error: CorralClientError | null = null;
      let settled = false;
      const settle = (code: number, reason: string): void => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        // A late 'error' from a socket we are done with must not crash the process.
        ws.on('error', () => undefined);
        resolve({ code, reason, error, opened });
      };
      ws.on('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          error = refusal(response.statusCode ?? 500, body);
          settle(1006, error.message);
        });
      });
      ws.on('error', (cause) => {
        error ??= new CorralClientError('DAEMON_UNREACHABLE', `Cannot reach the daemon at ${this.endpoint.url}: ${cause.message}`, null, undefined, { cause });
        // Without a close to follow (the connection never opened), this is the end of this attempt.
        if (!opened) settle(1006, error.message);
      });
      ws.on('open', () => {
        opened = true;
        if (!this.everOpened) {
          this.everOpened = true;
          this.opening.resolve();
        }
      });
      ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
      ws.on('close', (code, reason) => {
        // A drop after open is not a refusal: forget any socket error so the close code decides.
        if (opened) error = null;
        settle(code, reason.toString());
      });
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      const frame = decodeOutputFrame(bytes);
      this.offset = frame.offset + frame.data.length;
      this.outputEmitter.fire(frame);
      return;
    }
    const frame = JSON.parse(bytes.toString('utf8')) as ServerTextFrame;
    switch (frame.type) {
      case 'state':
        if (frame.offset !== undefined && this.offset === null) this.offset = frame.offset;
        this.stateEmitter.fire(frame);
        return;
      case 'screen':
        this.offset = frame.offset;
        this.screenEmitter.fire(frame);
        return;
      case 'gap':
        this.offset = frame.to;
        this.gapEmitter.fire(frame);
        return;
      case 'exit':
        this.exited = true;
        this.exitEmitter.fire(frame.exit);
        return;
      case 'error':
        this.refusedEmitter.fire(frame);
        return;
    }
  }

  private finish(close: AttachClose): void {
    this.ws = null;
    this.ending.resolve(close);
  }

  private disposeEmitters(): void {
    for (const emitter of [
      this.outputEmitter,
      this.screenEmitter,
      this.stateEmitter,
      this.exitEmitter,
      this.gapEmitter,
      this.refusedEmitter,
      this.reconnectEmitter,
    ]) {
      emitter.dispose();
    }
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
