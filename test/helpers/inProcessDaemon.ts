// A daemon built in this process through the composition root, as `corral serve` builds it (same faces, a real
// store and engine, its own temp data dir and root), answering through Fastify's `inject()`: for cases about HTTP
// only. Anything about the daemon as a process (signals, restart, crash, stderr, the CLI) uses daemonHarness.

import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { Daemon, type DaemonOptions } from '../../src/daemon/Daemon.js';
import { defaultFaces } from '../../src/daemon/faces.js';
import { createLogger } from '../../src/daemon/logger.js';
import type { DaemonFace } from '../../src/server/face.js';
import { DEFAULT_PORT } from '../../src/cli/serveCommand.js';

export interface InProcessDaemonHandle {
  daemon: Daemon;
  /** Where the daemon's Host and Origin names point: the real socket with `listen`, else nothing listens there. */
  url: string;
  token: string;
  dataDir: string;
  root: string;
  base: string;
  /** `app.inject()` with the Host of `url` unless `headers` names another; no token unless the caller adds one. */
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** An authenticated request, answered like daemonHarness's `request` (JSON body parsed). */
  request<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** Ends every session and closes the store, as SIGTERM does to `corral serve`. */
  stop(): Promise<void>;
  /** Removes the temp dirs (after stop). */
  cleanup(): void;
}

export interface InProcessOptions {
  /**
   * Also listen on 127.0.0.1 (a free port), for a case that needs a socket but no process: a WebSocket upgrade,
   * which `inject()` cannot make. Without it nothing listens.
   */
  listen?: boolean;
  /** The faces to attach; default: those of `corral serve`. */
  faces?: DaemonFace[];
  /** Daemon options over those of `corral serve` (test timings, a small event backlog, …). */
  daemonOptions?: Partial<DaemonOptions>;
  /** Prefix of the temp dir's name. */
  tempPrefix?: string;
}

export async function startInProcessDaemon(options: InProcessOptions = {}): Promise<InProcessDaemonHandle> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), options.tempPrefix ?? 'corral-inject-')));
  const dataDir = join(base, 'data');
  const root = join(base, 'work');
  mkdirSync(root, { recursive: true });
  // The options `corral serve --host 127.0.0.1 --port 0 --data-dir D --root R` passes (see src/cli/serveCommand.ts).
  const daemon = await Daemon.build(
    {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      roots: [root],
      allowRemote: false,
      allowedHosts: [],
      webhookAllow: [],
      logger: createLogger({ level: 'silent' }),
      engine: { allowEnv: [], profileDirs: [join(dataDir, 'profiles')], ptyBackend: 'native' },
      ...options.daemonOptions,
    },
    options.faces ?? defaultFaces(),
  );
  let url: string;
  try {
    if (options.listen === true) {
      await daemon.listen();
      url = daemon.url;
    } else {
      // Requests name the default port in their Host, as a client of a plain `corral serve` does.
      daemon.openDoor(DEFAULT_PORT);
      url = `http://127.0.0.1:${DEFAULT_PORT}`;
    }
  } catch (error) {
    await daemon.stop();
    rmSync(base, { recursive: true, force: true });
    throw error;
  }
  const token = daemon.door.token;
  const host = new URL(url).host;
  const inject = (request: InjectOptions): Promise<LightMyRequestResponse> =>
    daemon.app.inject({ ...request, headers: { host, ...request.headers } });
  return {
    daemon,
    url,
    token,
    dataDir,
    root,
    base,
    inject,
    async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const reply = await inject({
        method: method as InjectOptions['method'],
        url: path,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: reply.statusCode, body: (reply.body === '' ? undefined : JSON.parse(reply.body)) as T };
    },
    stop: () => daemon.stop(),
    cleanup() {
      rmSync(base, { recursive: true, force: true });
    },
  };
}
