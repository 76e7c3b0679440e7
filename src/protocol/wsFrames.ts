// The WebSocket frame format of `/ws/sessions/{id}` (PRODUCT §5): binary output frames with an 8-byte offset
// header, JSON text frames both ways. Pure protocol with no dependency at all (the web bundle takes it without zod);
// the zod schemas of client frames and of the upgrade query are in wsSchemas.ts.

import type { SignalName } from './api.js';
import type { ExitInfo, ScreenSnapshot, SessionInfo, SessionState, StateSource } from './sessionTypes.js';

/** Bytes of the big-endian offset that starts every binary output frame. */
export const OUTPUT_HEADER_BYTES = 8;

/** A binary output frame: offset of the chunk's first byte (big-endian u64), then the bytes. */
export function encodeOutputFrame(offset: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(OUTPUT_HEADER_BYTES + data.length);
  new DataView(frame.buffer, frame.byteOffset, OUTPUT_HEADER_BYTES).setBigUint64(0, BigInt(offset));
  frame.set(data, OUTPUT_HEADER_BYTES);
  return frame;
}

export function decodeOutputFrame(frame: Uint8Array): { offset: number; data: Uint8Array } {
  if (frame.length < OUTPUT_HEADER_BYTES) throw new Error(`output frame of ${frame.length} bytes has no offset header`);
  const offset = Number(new DataView(frame.buffer, frame.byteOffset, OUTPUT_HEADER_BYTES).getBigUint64(0));
  return { offset, data: frame.subarray(OUTPUT_HEADER_BYTES) };
}

// ---- server → client (text) ------------------------------------------------------------------------------

export interface StateFrame {
  type: 'state';
  state: SessionState;
  from: SessionState | null;
  reason: string;
  source: StateSource;
  at: string;
  /** Only on the first frame: where this client's output starts, and the session as it is now. */
  offset?: number;
  session?: SessionInfo;
}

export interface ExitFrame {
  type: 'exit';
  exit: ExitInfo;
}

/** Bytes [from, to) were evicted before this client could read them; the next output frame starts at `to`. */
export interface GapFrame {
  type: 'gap';
  from: number;
  to: number;
}

/** Opt-in (`?screen=1`): the rendered terminal at `offset`; live output then continues from `offset`. */
export interface ScreenFrame extends ScreenSnapshot {
  type: 'screen';
  offset: number;
}

/**
 * The session's terminal size changed (an attached client's vote, a take, a REST resize): sent to every client, so
 * each shows the real size. The first state frame's `session` carries the size at connect.
 */
export interface SizeFrame {
  type: 'size';
  cols: number;
  rows: number;
}

/** A client frame that was refused; the connection stays open. */
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

export type ServerTextFrame = StateFrame | ExitFrame | GapFrame | ScreenFrame | SizeFrame | ErrorFrame;

// ---- client → server (text) ------------------------------------------------------------------------------

/** What a client may send; validated on the server by `clientFrameSchema` (wsSchemas.ts). */
export type ClientFrame =
  | { type: 'input'; data: string }
  /** This client's size (its vote); `take`: this client's size wins until it leaves. */
  | { type: 'resize'; cols: number; rows: number; take?: boolean }
  | { type: 'signal'; name: SignalName }
  | { type: 'ack'; offset: number };

// ---- close codes -----------------------------------------------------------------------------------------

/**
 * A close a reconnect cannot fix: the catalog's 4xxx codes for a refused request (unknown session, bad token,
 * forbidden origin, ended session). 4429 (too many sessions or clients) and the 1xxx codes (server going away,
 * internal error, a dropped network) are worth retrying.
 */
export function isFinalClose(code: number): boolean {
  return code >= 4400 && code < 4500 && code !== 4429;
}
