// The wire format between the daemon and a session holder, mirrored from native/holder_protocol.h (where every
// frame is documented): encoders for what the daemon sends, a decoder for what the holder sends.
// Must never accept a frame it cannot fully parse: a malformed frame is an error, not a guess.

import type { SessionKind } from '../../protocol/sessionTypes.js';
import type { OutputChannel } from './ProcessBackend.js';

export const HOLDER_PROTOCOL_VERSION = 1;
export const HOLDER_SECRET_BYTES = 32;
const FRAME_HEADER_BYTES = 5;
/** Input is sent in frames of at most this much: the holder refuses larger frames (MAX_IN_PAYLOAD). */
export const MAX_INPUT_FRAME_BYTES = 1024 * 1024;
/**
 * Largest frame the holder sends (a DATA frame carries at most one 64 KiB chunk); anything larger is corruption.
 * Generous so that a future holder with bigger chunks still parses.
 */
const MAX_HOLDER_FRAME_BYTES = 16 * 1024 * 1024;
const CONFIG_MAGIC = 'CHC2';

export const FrameType = {
  hello: 0x01,
  input: 0x02,
  endInput: 0x03,
  resize: 0x04,
  pause: 0x05,
  resume: 0x06,
  signal: 0x07,
  ack: 0x08,
  forceClose: 0x09,
  release: 0x0a,
  welcome: 0x81,
  data: 0x82,
  exit: 0x83,
  closed: 0x84,
  gap: 0x85,
  replaced: 0x86,
} as const;

/** Channel numbers on the wire, in order. */
export const CHANNELS: readonly OutputChannel[] = ['pty', 'stdout', 'stderr'];
export type ChannelOffsets = Record<OutputChannel, number>;

export function zeroOffsets(): ChannelOffsets {
  return { pty: 0, stdout: 0, stderr: 0 };
}

/** Who a SIGNAL reaches: the program, its process group, or every descendant of the holder (escapees included). */
export type SignalScope = 'program' | 'group' | 'tree';
const SIGNAL_SCOPES: Record<SignalScope, number> = { program: 0, group: 1, tree: 2 };

/** How the program ended, as the holder saw it when it reaped it. */
export type HolderExit = { kind: 'exited'; code: number } | { kind: 'signaled'; signo: number };

export interface ChannelState {
  present: boolean;
  ended: boolean;
  /** Offset after the last byte the holder read. */
  next: number;
  /** Everything before it was acknowledged and is no longer retained. */
  acked: number;
}

export type HolderFrame =
  | {
      type: 'welcome';
      version: number;
      holderPid: number;
      holderStartTime: number;
      programPid: number;
      programStartTime: number;
      kind: SessionKind;
      exit: HolderExit | null;
      /** With an exit: the holder had no child left, so nothing of the program's tree runs (as EXIT's treeGone). */
      treeGone: boolean;
      /** A daemon closed the program's stdin (END_INPUT): it stays closed. */
      inputEnded: boolean;
      channels: Record<OutputChannel, ChannelState>;
    }
  | { type: 'data'; channel: OutputChannel; offset: number; data: Buffer }
  /** treeGone: the holder (a subreaper) had no child left, so nothing of the program's tree runs any more. */
  | { type: 'exit'; exit: HolderExit; treeGone: boolean }
  | { type: 'closed'; channel: OutputChannel; end: number }
  | { type: 'gap'; channel: OutputChannel; from: number; to: number }
  | { type: 'replaced' };

export interface HolderConfig {
  kind: SessionKind;
  cols: number;
  rows: number;
  retainBytes: number;
  secret: Buffer;
  socketPath: string;
  cwd: string;
  file: string;
  argv: string[];
  env: string[];
}

function frame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function str(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.includes(0)) throw new RangeError('holder configuration strings cannot contain NUL bytes');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

function vector(values: readonly string[]): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(values.length, 0);
  return Buffer.concat([count, ...values.map(str)]);
}

/** The spawn configuration written to the holder's stdin. */
export function encodeConfig(config: HolderConfig): Buffer {
  if (config.secret.length !== HOLDER_SECRET_BYTES) throw new RangeError(`a holder secret has ${HOLDER_SECRET_BYTES} bytes`);
  const head = Buffer.alloc(1 + 2 + 2 + 8);
  head.writeUInt8(config.kind === 'pty' ? 0 : 1, 0);
  head.writeUInt16BE(config.cols, 1);
  head.writeUInt16BE(config.rows, 3);
  head.writeBigUInt64BE(BigInt(config.retainBytes), 5);
  const body = Buffer.concat([head, config.secret, str(config.socketPath), str(config.cwd), str(config.file), vector(config.argv), vector(config.env)]);
  // Length-prefixed: the holder's stdin stays open after it (on a socket pair it is the daemon's connection).
  const prefix = Buffer.alloc(8);
  prefix.write(CONFIG_MAGIC, 0, 'latin1');
  prefix.writeUInt32BE(body.length, 4);
  return Buffer.concat([prefix, body]);
}

export function encodeHello(secret: Buffer, resume: ChannelOffsets): Buffer {
  const payload = Buffer.alloc(2 + HOLDER_SECRET_BYTES + 8 * CHANNELS.length);
  payload.writeUInt16BE(HOLDER_PROTOCOL_VERSION, 0);
  secret.copy(payload, 2);
  CHANNELS.forEach((channel, i) => payload.writeBigUInt64BE(BigInt(resume[channel]), 2 + HOLDER_SECRET_BYTES + 8 * i));
  return frame(FrameType.hello, payload);
}

/** Input in frames the holder accepts (at most MAX_INPUT_FRAME_BYTES each). */
export function encodeInput(data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let start = 0; start < data.length; start += MAX_INPUT_FRAME_BYTES) {
    frames.push(frame(FrameType.input, data.subarray(start, start + MAX_INPUT_FRAME_BYTES)));
  }
  return frames;
}

export function encodeResize(cols: number, rows: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(cols, 0);
  payload.writeUInt16BE(rows, 2);
  return frame(FrameType.resize, payload);
}

export function encodeSignal(scope: SignalScope, signo: number): Buffer {
  return frame(FrameType.signal, Buffer.from([SIGNAL_SCOPES[scope], signo]));
}

export function encodeAck(channel: OutputChannel, offset: number): Buffer {
  const payload = Buffer.alloc(9);
  payload.writeUInt8(CHANNELS.indexOf(channel), 0);
  payload.writeBigUInt64BE(BigInt(offset), 1);
  return frame(FrameType.ack, payload);
}

export function encodeCommand(type: 'endInput' | 'pause' | 'resume' | 'forceClose' | 'release'): Buffer {
  return frame(FrameType[type]);
}

export class HolderProtocolError extends Error {
  override readonly name = 'HolderProtocolError';
}

function channelAt(index: number): OutputChannel {
  const channel = CHANNELS[index];
  if (channel === undefined) throw new HolderProtocolError(`unknown channel ${index}`);
  return channel;
}

/** u64 offsets as numbers: 2^53 bytes is 8 PiB of output, beyond any session. */
function u64(buffer: Buffer, at: number): number {
  return Number(buffer.readBigUInt64BE(at));
}

function decodeExit(kind: number, value: number): HolderExit | null {
  if (kind === 0) return null;
  if (kind === 1) return { kind: 'exited', code: value };
  if (kind === 2) return { kind: 'signaled', signo: value };
  throw new HolderProtocolError(`unknown exit kind ${kind}`);
}

function expectLength(payload: Buffer, length: number, what: string): void {
  if (payload.length !== length) throw new HolderProtocolError(`${what} frame of ${payload.length} bytes, expected ${length}`);
}

function decodeFrame(type: number, payload: Buffer): HolderFrame {
  switch (type) {
    case FrameType.welcome: {
      // The tree byte at the end came with the second holder version; the first one's WELCOME ends before it.
      const length = 32 + 17 * CHANNELS.length;
      if (payload.length !== length + 1) expectLength(payload, length, 'WELCOME');
      const channels = {} as Record<OutputChannel, ChannelState>;
      CHANNELS.forEach((channel, i) => {
        const at = 32 + 17 * i;
        const flags = payload.readUInt8(at);
        channels[channel] = { present: (flags & 1) !== 0, ended: (flags & 2) !== 0, next: u64(payload, at + 1), acked: u64(payload, at + 9) };
      });
      return {
        type: 'welcome',
        version: payload.readUInt16BE(0),
        holderPid: payload.readUInt32BE(2),
        holderStartTime: u64(payload, 6),
        programPid: payload.readUInt32BE(14),
        programStartTime: u64(payload, 18),
        kind: payload.readUInt8(26) === 0 ? 'pty' : 'pipe',
        exit: decodeExit(payload.readUInt8(27), payload.readInt32BE(28)),
        treeGone: payload.length === length + 1 && (payload.readUInt8(length) & 1) === 0,
        inputEnded: payload.length === length + 1 && (payload.readUInt8(length) & 2) !== 0,
        channels,
      };
    }
    case FrameType.data:
      if (payload.length < 9) throw new HolderProtocolError('short DATA frame');
      return { type: 'data', channel: channelAt(payload.readUInt8(0)), offset: u64(payload, 1), data: payload.subarray(9) };
    case FrameType.exit: {
      // 5 bytes from a holder of the first version (no tree byte), 6 since.
      if (payload.length !== 6) expectLength(payload, 5, 'EXIT');
      const exit = decodeExit(payload.readUInt8(0), payload.readInt32BE(1));
      if (exit === null) throw new HolderProtocolError('EXIT frame without an exit');
      return { type: 'exit', exit, treeGone: payload.length === 6 && payload.readUInt8(5) === 0 };
    }
    case FrameType.closed:
      expectLength(payload, 9, 'CLOSED');
      return { type: 'closed', channel: channelAt(payload.readUInt8(0)), end: u64(payload, 1) };
    case FrameType.gap:
      expectLength(payload, 17, 'GAP');
      return { type: 'gap', channel: channelAt(payload.readUInt8(0)), from: u64(payload, 1), to: u64(payload, 9) };
    case FrameType.replaced:
      return { type: 'replaced' };
    default:
      throw new HolderProtocolError(`unknown frame type 0x${type.toString(16)}`);
  }
}

/** Splits the holder's byte stream into frames. */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Every complete frame in what arrived so far; throws HolderProtocolError on a malformed one. */
  push(chunk: Buffer): HolderFrame[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < FRAME_HEADER_BYTES) return [];
    let buffer = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    const frames: HolderFrame[] = [];
    while (buffer.length >= FRAME_HEADER_BYTES) {
      const length = buffer.readUInt32BE(1);
      if (length > MAX_HOLDER_FRAME_BYTES) throw new HolderProtocolError(`frame of ${length} bytes`);
      if (buffer.length < FRAME_HEADER_BYTES + length) break;
      frames.push(decodeFrame(buffer.readUInt8(0), buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)));
      buffer = buffer.subarray(FRAME_HEADER_BYTES + length);
    }
    this.pending = buffer.length > 0 ? [buffer] : [];
    this.pendingBytes = buffer.length;
    return frames;
  }
}

/** What a holder prints on stdout once it runs (or why it could not start). */
export type HolderReadyLine =
  | { ok: true; holderPid: number; holderStartTime: number; programPid: number; programStartTime: number }
  | { ok: false; step: string; errno: string };

export function parseReadyLine(output: string): HolderReadyLine | null {
  const line = output.split('\n', 1)[0] ?? '';
  const ready = /^READY (\d+) (\d+) (\d+) (\d+)$/.exec(line);
  if (ready !== null) {
    const [holderPid, holderStartTime, programPid, programStartTime] = ready.slice(1).map(Number) as [number, number, number, number];
    return { ok: true, holderPid, holderStartTime, programPid, programStartTime };
  }
  const error = /^ERROR (\S+) (\S+)$/.exec(line);
  if (error !== null) return { ok: false, step: error[1] ?? '', errno: error[2] ?? '' };
  return null;
}
