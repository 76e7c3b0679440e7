// One WebSocket client of one session: sends output from its own cursor (the session's output stream is the
// queue, so a slow client costs no memory of its own), applies its input, resize, signal and ack frames.
// It must never block the session or another client: it only sends while its own window has room.

import type { TerminalSize } from './TerminalSizeVote.js';
import type { WebSocket, RawData } from 'ws';
import { MAX_INPUT_BYTES } from '../../protocol/api.js';
import { CorralError, ERROR_CATALOG, isCorralError } from '../../protocol/errors.js';
import type { StateEvent } from '../../protocol/sessionTypes.js';
import type { LiveSession } from '../../engine/engineTypes.js';
import { encodeOutputFrame, type ClientFrame, type ServerTextFrame } from '../../protocol/wsFrames.js';
import { clientFrameSchema } from '../../protocol/wsSchemas.js';

export interface SocketLimits {
  /** Bytes handed to the socket but not yet written to the kernel; past this the client gets nothing more. */
  highWaterBytes: number;
  /** Largest output frame: coalesces many PTY reads into one frame without making one client hog the loop. */
  frameMaxBytes: number;
  /** Clients that ack: bytes sent past their last ack before they get nothing more (VS Code's watermark idea). */
  ackWindowBytes: number;
}

/** 1 MiB in flight keeps a loopback or LAN pipe full; 100 stalled clients still cost at most ~100 MiB. */
export const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;
/** 256 KiB frames: a 200 MB flood is ~800 frames; a keystroke echo is still one small frame. */
const DEFAULT_FRAME_MAX_BYTES = 256 * 1024;
/** A terminal that acks after rendering stays within ~1 MiB of unrendered output (xterm.js parses that in ms). */
const DEFAULT_ACK_WINDOW_BYTES = 1024 * 1024;

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  highWaterBytes: DEFAULT_HIGH_WATER_BYTES,
  frameMaxBytes: DEFAULT_FRAME_MAX_BYTES,
  ackWindowBytes: DEFAULT_ACK_WINDOW_BYTES,
};

export interface SessionSocketOptions {
  readOnly: boolean;
  flow: 'isolate' | 'pause';
  /** First offset this client gets. */
  cursor: number;
  limits: SocketLimits;
  /** The socket made progress (sent, acked) or closed: the channel re-checks its pause rule. */
  onProgress: () => void;
  /** A resize frame: this client's size, a vote among the session's clients (SessionChannel). */
  onResize: (socket: SessionSocket, size: TerminalSize, take: boolean) => void;
  log: (level: 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export class SessionSocket {
  private cursor: number;
  private inFlightBytes = 0;
  /** Last offset the client acked; null while it has not acked (then only the socket window applies). */
  private ackedOffset: number | null;
  private exitSent = false;
  private closed = false;
  /** Cleared at each heartbeat, set by any pong or message: still clear at the next heartbeat means a dead peer. */
  alive = true;
  readonly readOnly: boolean;
  readonly flow: 'isolate' | 'pause';

  constructor(
    readonly ws: WebSocket,
    readonly session: LiveSession,
    private readonly options: SessionSocketOptions,
  ) {
    this.cursor = options.cursor;
    this.readOnly = options.readOnly;
    this.flow = options.flow;
    // A flow=pause client is an acking client from its first byte: were its window to open only with its first ack,
    // a flood would run megabytes past it while that ack is on its way.
    this.ackedOffset = options.flow === 'pause' ? options.cursor : null;
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
  }

  /** A frame from the client (the server also hands over those that came while the attach was being set up). */
  receive(data: RawData, isBinary: boolean): void {
    this.alive = true;
    this.handleMessage(data, isBinary);
  }

  get isClosed(): boolean {
    return this.closed || this.ws.readyState !== this.ws.OPEN;
  }

  /** Next offset this client will be sent. */
  get offset(): number {
    return this.cursor;
  }

  private get canSend(): boolean {
    if (this.inFlightBytes >= this.options.limits.highWaterBytes) return false;
    return this.ackedOffset === null || this.cursor < this.ackedOffset + this.options.limits.ackWindowBytes;
  }

  /** Output exists that this client cannot take now. */
  get isBehind(): boolean {
    return this.cursor < this.session.output.endOffset && !this.canSend;
  }

  sendText(frame: ServerTextFrame): void {
    if (this.isClosed) return;
    this.ws.send(JSON.stringify(frame));
  }

  sendState(event: StateEvent): void {
    this.sendText({ type: 'state', state: event.to, from: event.from, reason: event.reason, source: event.source, at: event.at });
  }

  /** Sends what the window allows from the cursor on; after the last byte of an ended session, the exit frame. */
  pump(): void {
    if (this.isClosed) return;
    const stream = this.session.output;
    const limits = this.options.limits;
    while (this.canSend && this.cursor < stream.endOffset) {
      let max = limits.frameMaxBytes;
      if (this.ackedOffset !== null) max = Math.min(max, this.ackedOffset + limits.ackWindowBytes - this.cursor);
      const read = stream.read(this.cursor, max);
      if (read.gap > 0) this.sendText({ type: 'gap', from: this.cursor, to: read.offset });
      if (read.data.length === 0) {
        // Nothing readable at or after the cursor (evicted up to the end): skip to where the stream is.
        this.cursor = Math.max(this.cursor, read.offset);
        break;
      }
      this.sendOutput(read.offset, read.data);
      this.cursor = read.nextOffset;
    }
    const exit = this.session.exit;
    if (exit !== null && !this.exitSent && this.cursor >= stream.endOffset) {
      this.exitSent = true;
      this.sendText({ type: 'exit', exit });
      this.close(1000, 'session ended');
    }
  }

  private sendOutput(offset: number, data: Buffer): void {
    const frame = encodeOutputFrame(offset, data);
    this.inFlightBytes += frame.length;
    this.ws.send(frame, { binary: true }, (error) => {
      this.inFlightBytes -= frame.length;
      // An error here means the socket died; its close event cleans up.
      if (error === undefined || error === null) this.pump();
      this.options.onProgress();
    });
  }

  private handleMessage(raw: RawData, isBinary: boolean): void {
    try {
      if (isBinary) {
        // Extension: a binary frame from the client is raw input bytes (keystrokes that are not valid UTF-8).
        this.requireWritable('input');
        this.session.write(toBuffer(raw));
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(toBuffer(raw).toString('utf8'));
      } catch (error) {
        // Only JSON.parse's SyntaxError is expected here; anything else is a bug and goes to the outer handler.
        if (!(error instanceof SyntaxError)) throw error;
        throw new CorralError('BAD_REQUEST', `Text frames must be JSON: ${error.message}`);
      }
      if (isPlainInput(json)) {
        // Keystrokes are nearly every frame a terminal sends: skip the general validator for the one exact shape.
        this.apply(json);
        return;
      }
      const parsed = clientFrameSchema.safeParse(json);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new CorralError(
          'VALIDATION_FAILED',
          `Invalid frame${first === undefined ? '' : `: ${first.path.join('.') || 'frame'}: ${first.message}`}. ` +
            'Client frames are {type:"input",data}, {type:"resize",cols,rows,take?}, {type:"signal",name}, {type:"ack",offset}.',
        );
      }
      this.apply(parsed.data);
    } catch (error) {
      if (isCorralError(error)) {
        this.sendText({ type: 'error', code: error.code, message: error.message });
        return;
      }
      this.options.log('error', 'websocket frame failed', { session: this.session.id, error: (error as Error).message });
      this.sendText({ type: 'error', code: 'INTERNAL', message: 'Internal error; the daemon log has the details.' });
    }
  }

  private apply(frame: ClientFrame): void {
    switch (frame.type) {
      case 'input':
        this.requireWritable('input');
        this.session.write(frame.data);
        return;
      case 'resize':
        this.requireWritable('resize');
        // A vote among this session's clients (TerminalSizeVote): the smallest, or the one that took the size.
        this.options.onResize(this, { cols: frame.cols, rows: frame.rows }, frame.take === true);
        return;
      case 'signal':
        this.requireWritable('signal');
        this.session.signal(frame.name);
        return;
      case 'ack':
        // An ack past what was sent cannot open the window further than the data this client actually has.
        this.ackedOffset = Math.max(this.ackedOffset ?? 0, Math.min(frame.offset, this.cursor));
        this.pump();
        this.options.onProgress();
        return;
    }
  }

  private requireWritable(what: string): void {
    if (this.readOnly) {
      throw new CorralError('READ_ONLY', `This is a read-only attach: ${what} is refused. Reconnect without mode=read-only to type.`);
    }
  }

  /** Closes with a code of the error catalog (or a standard one). */
  closeWithError(error: CorralError): void {
    this.sendText({ type: 'error', code: error.code, message: error.message });
    this.close(ERROR_CATALOG[error.code].wsClose, error.message);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // Close reasons are limited to 123 bytes by RFC 6455.
    this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
  }

  /** Drops the connection without a closing handshake (dead peer). */
  terminate(): void {
    this.closed = true;
    this.ws.terminate();
  }
}

/** Exactly {type:"input", data:<string within the limit>} and nothing else: what the schema would accept as input. */
function isPlainInput(json: unknown): json is { type: 'input'; data: string } {
  if (typeof json !== 'object' || json === null) return false;
  const frame = json as Record<string, unknown>;
  if (frame.type !== 'input' || typeof frame.data !== 'string' || frame.data.length > MAX_INPUT_BYTES) return false;
  let keys = 0;
  for (const key in frame) {
    if (!Object.hasOwn(frame, key)) continue;
    keys += 1;
  }
  return keys === 2;
}

function toBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}
