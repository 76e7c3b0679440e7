// Runs sessions under a corral-holder (native/holder.c): the program belongs to a small per-session process, not to
// the daemon, so the daemon can stop, crash or be replaced while it runs, and a later daemon reattaches with
// `reattach()` and continues the output exactly where its journal ends.
// Must never deliver a byte twice or skip one silently (offsets are checked against what was delivered), and never
// acknowledge a byte before its listeners ran (or, with manual acknowledgements, before the engine says so).

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Emitter } from '../../common/lifecycle.js';
import { CorralError } from '../../protocol/errors.js';
import { launchHolder } from './holderLaunch.js';
import { ProcessLifecycle } from './ProcessLifecycle.js';
import type {
  BackendProcess,
  ChannelResume,
  HostControl,
  HostRecord,
  OutputChannel,
  ProcessBackend,
  ProcessStatus,
  SpawnOptions,
} from './ProcessBackend.js';
import { signalName, signalNumber } from './signalNames.js';
import {
  CHANNELS,
  encodeAck,
  encodeCommand,
  encodeConfig,
  encodeHello,
  encodeInput,
  encodeResize,
  encodeSignal,
  FrameDecoder,
  HOLDER_SECRET_BYTES,
  zeroOffsets,
  type ChannelOffsets,
  type HolderExit,
  type HolderFrame,
  type SignalScope,
} from './holderProtocol.js';

// src/engine/backends and dist/engine/backends both sit three levels below the repo root.
export const HOLDER_PATH = fileURLToPath(new URL('../../../native/build/Release/corral-holder', import.meta.url));

/**
 * Output a holder keeps per channel that the daemon has not acknowledged. It is what a session can produce while no
 * daemon is attached before the program blocks on output: 8 MiB is minutes of a chatty agent and a few seconds of a
 * flood, and costs nothing until used (the holder allocates in 64 KiB chunks as bytes arrive).
 */
export const DEFAULT_RETAIN_BYTES = 8 * 1024 * 1024;
/** How long a holder may take to start the program and report READY before the spawn counts as failed. */
const SPAWN_TIMEOUT_MS = 10_000;
/** How long a reattach waits for the holder's WELCOME. */
const REATTACH_TIMEOUT_MS = 5_000;

/** Session ids the engine makes (s_ + base64url) and test ids: safe as a file name. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** How a holder's socket fails when the holder is gone or dies: the connection's 'close' reports it. */
const EXPECTED_SOCKET_ERRORS: ReadonlySet<string> = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

/** Everything a daemon must persist to find, verify and reattach a session's holder later. */
export type HolderRecord = HostRecord;

export interface HolderBackendOptions {
  /** The daemon's data dir: sockets go to <dataDir>/holders/<sessionId>.sock. */
  dataDir: string;
  /**
   * When true the engine calls acknowledge() once it journalled the bytes, and release() once it recorded the end;
   * otherwise the backend acknowledges after onData's listeners ran and releases after onClosed's.
   */
  manualAcks?: boolean;
  /** Unacknowledged output a holder keeps per channel; DEFAULT_RETAIN_BYTES by default. */
  retainBytes?: number;
  /** The holder executable (tests and packaging); HOLDER_PATH by default. */
  holderPath?: string;
}

function statusOf(exit: HolderExit): ProcessStatus {
  return exit.kind === 'exited' ? { code: exit.code, signal: null } : { code: null, signal: signalName(exit.signo) };
}

/** The status of an EXIT (or a WELCOME with an exit): treeGone lets the engine skip its sweep of the tree. */
function exitStatus(frame: { exit: HolderExit; treeGone: boolean }): ProcessStatus {
  return frame.treeGone ? { ...statusOf(frame.exit), treeGone: true } : statusOf(frame.exit);
}

type Mode = { kind: 'spawned' } | { kind: 'reattaching'; resolve: () => void; reject: (error: Error) => void };

export class HolderProcess extends ProcessLifecycle implements BackendProcess, HostControl {
  readonly pid: number;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  /** Per channel, the offset of the next byte to deliver: what the engine has, when it journals every onData. */
  private readonly delivered: ChannelOffsets;
  private readonly gapEmitter = new Emitter<{ channel: OutputChannel; from: number; to: number }>();
  /** Bytes the holder said it no longer had (a reattach asked for more than was retained). Should never fire. */
  readonly onGap = this.gapEmitter.event;
  private readonly endedChannels = new Set<OutputChannel>();
  private presentChannels: OutputChannel[];
  /** Frames held back while a reattach's caller has not subscribed yet. */
  private backlog: HolderFrame[] | null = null;
  private mode: Mode;
  private released = false;
  private detached = false;
  private paused = false;
  /** The program's stdin was closed (by this daemon or, as the WELCOME of a reattach says, an earlier one). */
  inputEnded = false;

  constructor(
    readonly record: HolderRecord,
    resume: ChannelOffsets,
    private readonly manualAcks: boolean,
    mode: Mode,
    /** The spawn's connection (HELLO sent, paused) and the bytes read past READY; null: connect to the socket. */
    launched: { socket: Socket; rest: Buffer } | null = null,
  ) {
    super();
    this.pid = record.program.pid;
    this.mode = mode;
    this.delivered = { ...resume };
    this.presentChannels = record.kind === 'pty' ? ['pty'] : ['stdout', 'stderr'];
    if (launched === null) {
      this.socket = createConnection({ path: record.socketPath });
      this.socket.write(encodeHello(Buffer.from(record.secret, 'hex'), resume));
    } else {
      this.socket = launched.socket;
    }
    this.socket.on('data', (chunk: Buffer) => this.received(chunk));
    // The 'close' that follows reports the loss: ENOENT/ECONNREFUSED (no holder), EPIPE/ECONNRESET (it died).
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!EXPECTED_SOCKET_ERRORS.has(error.code ?? '')) {
        process.emitWarning(`holder socket of session ${record.sessionId} failed: ${error.message}`);
      }
    });
    this.socket.on('close', () => this.connectionClosed());
    if (!manualAcks) {
      // After every listener of onClosed ran (they were added after this one, and fire in order).
      this.onClosed(() => queueMicrotask(() => this.release()));
    }
    if (launched !== null) {
      // The caller subscribes right after spawn() resolves (a microtask); the frames wait for the next macrotask.
      setImmediate(() => {
        if (launched.rest.length > 0) this.received(launched.rest);
        this.socket.resume();
      });
    }
  }

  get host(): HostControl {
    return this;
  }

  signalTree(name: NodeJS.Signals): void {
    this.signal('tree', name);
  }

  /** Offsets of the next byte per channel: what a later reattach passes as `resume` when every byte was journalled. */
  get offsets(): Readonly<ChannelOffsets> {
    return this.delivered;
  }

  private received(chunk: Buffer): void {
    let frames: HolderFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      process.emitWarning(`holder of session ${this.record.sessionId} sent a malformed frame: ${(error as Error).message}`);
      this.socket.destroy();
      return;
    }
    if (this.backlog !== null) {
      this.backlog.push(...frames);
      return;
    }
    this.handleFrames(frames);
  }

  private handleFrames(frames: HolderFrame[]): void {
    const acks = new Map<OutputChannel, number>();
    for (const [i, frame] of frames.entries()) {
      if (frame.type === 'welcome' && this.mode.kind === 'reattaching') {
        // Hold everything after the WELCOME until the caller of reattach() has subscribed to the events.
        this.backlog = frames.slice(i + 1);
        this.welcomed(frame);
        return;
      }
      this.handleFrame(frame, acks);
    }
    if (!this.manualAcks) for (const [channel, offset] of acks) this.send(encodeAck(channel, offset));
  }

  private handleFrame(frame: HolderFrame, acks: Map<OutputChannel, number>): void {
    switch (frame.type) {
      case 'welcome':
        // A program that exited before this connection: the WELCOME carries its status instead of an EXIT frame.
        if (frame.exit !== null && this.status === null) this.reportExit(exitStatus({ exit: frame.exit, treeGone: frame.treeGone }));
        return;
      case 'data': {
        const expected = this.delivered[frame.channel];
        let data = frame.data;
        if (frame.offset > expected) {
          this.gapEmitter.fire({ channel: frame.channel, from: expected, to: frame.offset });
        } else if (frame.offset < expected) {
          // Already delivered (cannot happen: the holder starts where HELLO said); drop the overlap, never repeat it.
          data = data.subarray(Math.min(data.length, expected - frame.offset));
        }
        const offset = Math.max(frame.offset, expected);
        this.delivered[frame.channel] = offset + data.length;
        if (data.length > 0 && !this.outputEnded) this.dataEmitter.fire({ channel: frame.channel, data, offset });
        acks.set(frame.channel, this.delivered[frame.channel]);
        return;
      }
      case 'exit':
        if (this.status === null) this.reportExit(exitStatus(frame));
        return;
      case 'closed':
        this.endedChannels.add(frame.channel);
        if (this.presentChannels.every((channel) => this.endedChannels.has(channel))) this.reportOutputEnded();
        return;
      case 'gap':
        this.delivered[frame.channel] = frame.to;
        this.gapEmitter.fire({ channel: frame.channel, from: frame.from, to: frame.to });
        return;
      case 'replaced':
        process.emitWarning(`another daemon attached to the holder of session ${this.record.sessionId}; this one lets go`);
        this.detached = true;
        this.socket.destroy();
        return;
    }
  }

  private welcomed(frame: Extract<HolderFrame, { type: 'welcome' }>): void {
    const mode = this.mode;
    if (mode.kind !== 'reattaching') return;
    this.mode = { kind: 'spawned' };
    const { holder, program } = this.record;
    if (
      frame.holderPid !== holder.pid ||
      frame.holderStartTime !== holder.startTime ||
      frame.programPid !== program.pid ||
      frame.programStartTime !== program.startTime ||
      frame.kind !== this.record.kind
    ) {
      this.detached = true;
      this.socket.destroy();
      mode.reject(new CorralError('INTERNAL', `The holder at ${this.record.socketPath} is not the one recorded for session ${this.record.sessionId}.`));
      return;
    }
    this.presentChannels = CHANNELS.filter((channel) => frame.channels[channel].present);
    this.inputEnded = frame.inputEnded;
    mode.resolve();
    // A macrotask: runs after the awaiting caller's continuation (a microtask) has subscribed.
    setImmediate(() => {
      const backlog = this.backlog ?? [];
      this.backlog = null;
      if (frame.exit !== null && this.status === null) this.reportExit(exitStatus({ exit: frame.exit, treeGone: frame.treeGone }));
      this.handleFrames(backlog);
    });
  }

  private connectionClosed(): void {
    const mode = this.mode;
    if (mode.kind === 'reattaching') {
      this.mode = { kind: 'spawned' };
      mode.reject(new CorralError('INTERNAL', `No live holder answered at ${this.record.socketPath} for session ${this.record.sessionId}.`));
      return;
    }
    if (this.released || this.detached) return;
    // The holder died (or closed on us): the program's fate is unknown. Its tree may still run; the engine ends it.
    if (this.status === null) this.reportExit({ code: null, signal: null, lost: true });
    this.reportOutputEnded();
  }

  private send(frame: Buffer): void {
    if (!this.socket.destroyed && !this.released && !this.detached) this.socket.write(frame);
  }

  write(data: string | Buffer): void {
    if (this.outputEnded) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (const frame of encodeInput(bytes)) this.send(frame);
  }

  endInput(): void {
    this.inputEnded = true;
    this.send(encodeCommand('endInput'));
  }

  resize(cols: number, rows: number): void {
    if (this.outputEnded || this.status !== null) return;
    this.send(encodeResize(cols, rows));
  }

  pause(): void {
    if (this.status !== null || this.paused || this.outputEnded) return;
    this.paused = true;
    this.send(encodeCommand('pause'));
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.send(encodeCommand('resume'));
  }

  /** The holder stops waiting for EOF; what it read is still delivered, then the stream closes (asynchronously). */
  forceClose(): void {
    if (this.outputEnded) return;
    if (this.socket.destroyed) {
      this.reportOutputEnded();
      return;
    }
    this.send(encodeCommand('forceClose'));
  }

  acknowledge(channel: OutputChannel, offset: number): void {
    this.send(encodeAck(channel, offset));
  }

  /**
   * Signals through the holder: the program, its group (both safe against pid reuse while the holder has not reaped
   * the program), or every descendant of the holder ('tree': also setsid and double-fork escapees).
   */
  signal(scope: SignalScope, name: NodeJS.Signals): void {
    const signo = signalNumber(name);
    if (signo === undefined) throw new RangeError(`Unknown signal ${name}`);
    this.send(encodeSignal(scope, signo));
  }

  /** The engine has every byte and the exit: the holder may exit once the tree is gone. Idempotent. */
  release(): void {
    if (this.released || this.detached) return;
    this.send(encodeCommand('release'));
    this.released = true;
    this.socket.end();
  }

  /** Lets go of the holder without ending the session (daemon stop): no event fires afterwards. Idempotent. */
  detach(): void {
    if (this.detached || this.released) return;
    this.detached = true;
    this.socket.destroy();
    this.gapEmitter.dispose();
  }

  /** Resolves once the WELCOME arrived (reattach); used by HolderBackend.reattach only. */
  static async attached(proc: HolderProcess, ready: Promise<void>, signal?: AbortSignal): Promise<HolderProcess> {
    const timer = setTimeout(() => proc.socket.destroy(), REATTACH_TIMEOUT_MS);
    const abort = (): void => {
      proc.socket.destroy();
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await ready;
      return proc;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
    }
  }
}

export class HolderBackend implements ProcessBackend {
  private readonly retainBytes: number;
  private readonly holderPath: string;
  private readonly manualAcks: boolean;
  private holdersDirMade = false;
  readonly holdersDir: string;

  constructor(options: HolderBackendOptions) {
    this.holdersDir = join(options.dataDir, 'holders');
    this.retainBytes = options.retainBytes ?? DEFAULT_RETAIN_BYTES;
    this.holderPath = options.holderPath ?? HOLDER_PATH;
    this.manualAcks = options.manualAcks ?? false;
  }

  /**
   * Starts a holder running the program and stays connected to it through the socket pair it was started on.
   * Asynchronous: the holder's start (exec, socket, the program's spawn) runs in parallel with the daemon's loop,
   * which only reads its READY line when it comes. Events start on the next macrotask: subscribe after the await.
   */
  async spawn(options: SpawnOptions): Promise<HolderProcess> {
    const sessionId = options.sessionId ?? options.env.CORRAL_SESSION_ID ?? `anon-${randomBytes(6).toString('hex')}`;
    // It names a file in the holders dir: nothing that could leave it or hide in it.
    if (!SESSION_ID_PATTERN.test(sessionId)) throw new CorralError('SPAWN_FAILED', `Cannot name a holder socket after session id "${sessionId}".`);
    const socketPath = join(this.holdersDir, `${sessionId}.sock`);
    const secret = randomBytes(HOLDER_SECRET_BYTES);
    // The holder checks (and refuses) a directory others could enter; making it here keeps the first spawn simple.
    // Once per backend: after that it exists (a missing one makes the holder fail with a clear ERROR).
    if (!this.holdersDirMade) {
      mkdirSync(this.holdersDir, { recursive: true, mode: 0o700 });
      this.holdersDirMade = true;
    }
    const config = encodeConfig({
      kind: options.kind,
      cols: options.cols,
      rows: options.rows,
      retainBytes: this.retainBytes,
      secret,
      socketPath,
      cwd: options.cwd,
      file: options.file,
      argv: [options.file, ...options.args],
      env: Object.entries(options.env).map(([name, value]) => `${name}=${value}`),
    });
    // The holder stays our child (the orphan reaper collects it once it exits). An empty environment: the holder
    // itself carries no session marker, so a tree kill by marker never takes it down before it reported the exit.
    const hello = encodeHello(secret, zeroOffsets());
    const { ready, socket, rest } = await launchHolder(this.holderPath, [this.holderPath, sessionId], config, hello, SPAWN_TIMEOUT_MS, options.file);
    const record: HolderRecord = {
      sessionId,
      kind: options.kind,
      socketPath,
      secret: secret.toString('hex'),
      holder: { pid: ready.holderPid, startTime: ready.holderStartTime },
      program: { pid: ready.programPid, startTime: ready.programStartTime },
    };
    return new HolderProcess(record, zeroOffsets(), this.manualAcks, { kind: 'spawned' }, { socket, rest });
  }

  /**
   * Attaches to a running holder found in `record` and continues each channel at `resume` (the journal's end;
   * missing channels start at 0). Rejects when no holder answers or it is not the recorded one. Events start on the
   * next macrotask after the promise resolves: subscribe right after the await.
   */
  reattach(record: HolderRecord, resume: ChannelResume = {}, signal?: AbortSignal): Promise<HolderProcess> {
    let resolve: () => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const proc = new HolderProcess(record, { ...zeroOffsets(), ...resume }, this.manualAcks, {
      kind: 'reattaching',
      resolve,
      reject,
    });
    return HolderProcess.attached(proc, ready, signal);
  }
}
