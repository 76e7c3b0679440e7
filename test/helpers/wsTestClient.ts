// A WebSocket test client for /ws/sessions/{id}: records every frame, checks that output offsets are contiguous
// (or bridged by an explicit gap frame), and waits for conditions without polling the daemon.

import assert from 'node:assert/strict';
import WebSocket, { type RawData } from 'ws';
import type { Daemon, DaemonFace, DaemonOptions } from '../../src/daemon/Daemon.js';
import { startInProcessDaemon } from './inProcessDaemon.js';
import { decodeOutputFrame, type ServerTextFrame } from '../../src/protocol/wsFrames.js';

/** Waits in these tests end on events; this only bounds a broken test on a loaded 2-core machine. */
export const WAIT_LIMIT_MS = 60_000;

export class TestSocket {
  readonly texts: ServerTextFrame[] = [];
  private readonly chunks: Buffer[] = [];
  /** Next offset expected after the last output frame (or gap). */
  nextOffset: number | null = null;
  firstOffset: number | null = null;
  outputBytes = 0;
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners = new Set<() => void>();
  private keep: boolean;

  private constructor(
    readonly ws: WebSocket,
    options: { keepData: boolean },
  ) {
    this.keep = options.keepData;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.changed());
  }

  /** `ca`: the CA a wss:// daemon's certificate is checked against (a test CA). */
  static open(url: string, headers: Record<string, string>, options: { keepData?: boolean; ca?: Buffer } = {}): Promise<TestSocket> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, ...(options.ca === undefined ? {} : { ca: options.ca }) });
    const socket = new TestSocket(ws, { keepData: options.keepData ?? true });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode ?? '?'}`)));
      ws.once('error', reject);
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      const frame = decodeOutputFrame(bytes);
      if (this.nextOffset !== null) assert.equal(frame.offset, this.nextOffset, 'output frames are contiguous');
      if (this.firstOffset === null) this.firstOffset = frame.offset;
      this.nextOffset = frame.offset + frame.data.length;
      this.outputBytes += frame.data.length;
      if (this.keep) this.chunks.push(Buffer.from(frame.data));
    } else {
      const frame = JSON.parse(bytes.toString('utf8')) as ServerTextFrame;
      if (frame.type === 'gap') {
        if (this.nextOffset !== null) assert.equal(frame.from, this.nextOffset, 'a gap starts where the output stopped');
        this.nextOffset = frame.to;
      }
      if (frame.type === 'state' && frame.offset !== undefined) this.nextOffset = frame.offset;
      if (frame.type === 'screen') this.nextOffset = frame.offset;
      this.texts.push(frame);
    }
    this.changed();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  get output(): Buffer {
    return Buffer.concat(this.chunks);
  }

  textsOf<T extends ServerTextFrame['type']>(type: T): Extract<ServerTextFrame, { type: T }>[] {
    return this.texts.filter((frame): frame is Extract<ServerTextFrame, { type: T }> => frame.type === type);
  }

  /** Resolves once `predicate` holds (checked on every frame); rejects when the socket closes first or at the limit. */
  until(predicate: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate()) {
          done();
          resolve();
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed before: ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for: ${what}`));
      }, WAIT_LIMIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    return this.closed;
  }
}

/** The HTTP status an upgrade gets (101 when accepted), and the JSON error body of a refusal. */
export function upgradeStatus(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('upgrade', () => {
      ws.terminate();
      resolve({ status: 101, body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (error) => {
      // After unexpected-response ws reports an abort; the status was already resolved.
      if (!/closed before the connection/.test(error.message)) reject(error);
    });
  });
}

export interface InProcessDaemon {
  daemon: Daemon;
  url: string;
  wsUrl: string;
  token: string;
  root: string;
  auth: Record<string, string>;
  request<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** A listening daemon in this process (for faces built with test timings), with its own data dir and root. */
export async function startInProcess(faces: DaemonFace[], options: Partial<DaemonOptions> = {}): Promise<InProcessDaemon> {
  const handle = await startInProcessDaemon({
    listen: true,
    faces,
    tempPrefix: 'corral-ws-',
    daemonOptions: { engine: { graces: { politeMs: 500, interruptMs: 300, termMs: 500 } }, ...options },
  });
  const auth = { authorization: `Bearer ${handle.token}` };
  return {
    daemon: handle.daemon,
    url: handle.url,
    wsUrl: handle.url.replace(/^http/, 'ws'),
    token: handle.token,
    root: handle.root,
    auth,
    async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(handle.url + path, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    async stop() {
      await handle.stop();
      handle.cleanup();
    },
  };
}
