// Receives agent CLI hook reports (Claude Code and Gemini CLI hooks, Codex CLI notify) on a Unix socket in its own dir of the data dir.
// Each session has its own random secret, given to its hook command in the environment; a report is delivered
// only to the session whose secret it carries, so one session cannot speak for another. It never sees or needs
// the daemon's API token, and it knows no HTTP face: the engine owns it.

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tokensEqual } from './secrets.js';

/** One hook report: the event name and the JSON object the CLI gave the hook on stdin. */
export interface HookEvent {
  name: string;
  payload: Record<string, unknown>;
  /** performance.now() when the report arrived (for latency measurements). */
  receivedAt: number;
}

/** PostToolUse payloads carry tool output; 4 MiB covers big outputs while bounding a runaway writer. */
const MAX_HOOK_BODY_BYTES = 4 * 1024 * 1024;
/** sun_path is 108 bytes on Linux; past this a socket under the data dir cannot be bound, so use the temp dir. */
const MAX_SOCKET_PATH = 100;
export const HOOK_SECRET_HEADER = 'x-corral-hook-secret';
/** 128 random bits per session secret. */
const SECRET_BYTES = 16;

/** A fresh per-session hook secret. */
export function newHookSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

interface Registration {
  secret: string;
  deliver: (event: HookEvent) => void;
}

export class HookServer {
  private server: Server | null = null;
  private starting: Promise<string> | null = null;
  private readonly sessions = new Map<string, Registration>();
  readonly socketPath: string;
  /**
   * The directory holding the socket and nothing else: a session sandbox mounts it (not the socket file, whose inode a
   * restarted daemon replaces), so hooks keep reaching the daemon from inside the sandbox across restarts.
   */
  readonly socketDir: string;
  /** Reports refused (wrong secret, unknown session, bad body): visible in stats, never delivered. */
  refused = 0;
  received = 0;

  constructor(dataDir: string) {
    const preferred = join(dataDir, 'hooks', 'hooks.sock');
    this.socketPath =
      preferred.length <= MAX_SOCKET_PATH ? preferred : join(tmpdir(), `corral-hooks-${randomBytes(6).toString('hex')}`, 'hooks.sock');
    this.socketDir = dirname(this.socketPath);
  }

  /** Starts listening (once); resolves with the socket path. */
  start(): Promise<string> {
    if (this.starting === null) {
      this.starting = new Promise<string>((resolve, reject) => {
        mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
        // A socket file left by a daemon that was killed would make listen fail with EADDRINUSE.
        rmSync(this.socketPath, { force: true });
        const server = createServer((req, res) => this.handle(req, res));
        server.once('error', reject);
        server.listen(this.socketPath, () => {
          server.off('error', reject);
          chmodSync(this.socketPath, 0o600);
          resolve(this.socketPath);
        });
        this.server = server;
      });
    }
    return this.starting;
  }

  /** Reports for `sessionId` carrying `secret` reach `deliver` until the returned function is called. */
  register(sessionId: string, secret: string, deliver: (event: HookEvent) => void): () => void {
    this.sessions.set(sessionId, { secret, deliver });
    return () => {
      if (this.sessions.get(sessionId)?.secret === secret) this.sessions.delete(sessionId);
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/hooks\/(s_[A-Za-z0-9_-]{22})$/.exec(req.url ?? '');
    const registration = match?.[1] === undefined ? undefined : this.sessions.get(match[1]);
    const given = req.headers[HOOK_SECRET_HEADER];
    if (req.method !== 'POST' || registration === undefined || typeof given !== 'string' || !tokensEqual(given, registration.secret)) {
      this.refused++;
      res.writeHead(403).end();
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HOOK_BODY_BYTES) {
        this.refused++;
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_HOOK_BODY_BYTES) return;
      const receivedAt = performance.now();
      // Answer first: the CLI waits for its hook command, and the command waits for us.
      res.writeHead(204).end();
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        // A hook command that sent something other than the CLI's JSON: count it, deliver nothing.
        if (!(error instanceof SyntaxError)) throw error;
        this.refused++;
        return;
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        this.refused++;
        return;
      }
      const record = payload as Record<string, unknown>;
      // Claude and Gemini name the event `hook_event_name`; Codex's notify payload names it `type`.
      const named = record.hook_event_name ?? record.type;
      const name = typeof named === 'string' ? named : 'unknown';
      this.received++;
      registration.deliver({ name, payload: record, receivedAt });
    });
  }

  async dispose(): Promise<void> {
    this.sessions.clear();
    const server = this.server;
    this.server = null;
    if (server !== null) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.socketPath, { force: true });
  }
}
