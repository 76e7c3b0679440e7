// The WebSocket frame format of `/ws/sessions/{id}` (PRODUCT §5): binary output frames with an 8-byte offset
// header, JSON text frames both ways. Pure protocol: imports neither Node nor DOM (the CLI and web UI use it too).

import { z } from 'zod';
import { MAX_COLS, MAX_INPUT_BYTES, MAX_ROWS, SIGNAL_NAMES } from '../../common/api.js';
import type { ExitInfo, ScreenSnapshot, SessionInfo, SessionState, StateSource } from '../../common/sessionTypes.js';

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

/** A client frame that was refused; the connection stays open. */
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

export type ServerTextFrame = StateFrame | ExitFrame | GapFrame | ScreenFrame | ErrorFrame;

// ---- client → server (text) ------------------------------------------------------------------------------

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('input'), data: z.string().max(MAX_INPUT_BYTES) }).strict(),
  z
    .object({ type: z.literal('resize'), cols: z.number().int().min(2).max(MAX_COLS), rows: z.number().int().min(2).max(MAX_ROWS) })
    .strict(),
  z.object({ type: z.literal('signal'), name: z.enum(SIGNAL_NAMES) }).strict(),
  z.object({ type: z.literal('ack'), offset: z.number().int().min(0) }).strict(),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Query of the upgrade URL. */
export const socketQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0).optional(),
    mode: z.enum(['read-write', 'read-only']).default('read-write'),
    /** `pause`: this client accepts that the session waits for it (the rule is in SessionChannel). Default `isolate`. */
    flow: z.enum(['isolate', 'pause']).default('isolate'),
    screen: z.enum(['0', '1']).default('0'),
  });
export type SocketQuery = z.infer<typeof socketQuerySchema>;
